// A unified diff of two machine configs for `apply-config --dry-run`, with every secret masked first: a key, token or
// secret shows as `<redacted>` when unchanged and `<redacted, changed>` when changed, so key material is never printed.
import { X509Certificate } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { stringify } from 'yaml';
import { decodePemField } from '../config/index.js';
import type { MachineConfig } from '../config/index.js';

export const REDACTED = '<redacted>';
export const REDACTED_CHANGED = '<redacted, changed>';

const CONTEXT_LINES = 3;

/** Field names whose values are key material or bearer secrets, wherever they appear. */
export function isSecretField(name: string): boolean {
  return /key$|secret|token|password/i.test(name);
}

type Plain = unknown;

const isMapValue = (v: Plain): v is Record<string, Plain> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Masks the secrets of both sides together, so that a changed secret can be told from an unchanged one. */
export function redactPair(before: Plain, after: Plain): [Plain, Plain] {
  if (isMapValue(before) && isMapValue(after)) {
    const a: Record<string, Plain> = {};
    const b: Record<string, Plain> = {};
    for (const k of Object.keys(before)) {
      if (!(k in after)) a[k] = redactAlone(before[k], k);
    }
    for (const k of Object.keys(after)) {
      if (!(k in before)) {
        b[k] = isSecretField(k) ? REDACTED_CHANGED : redactAlone(after[k]);
      } else if (isSecretField(k)) {
        a[k] = REDACTED;
        b[k] = isDeepStrictEqual(before[k], after[k]) ? REDACTED : REDACTED_CHANGED;
      } else {
        [a[k], b[k]] = k === 'crt' ? [describeCertificate(before[k]), describeCertificate(after[k])] : redactPair(before[k], after[k]);
      }
    }
    // Keep the order the old document had, so unchanged keys line up in the diff.
    return [Object.fromEntries(Object.keys(before).map((k) => [k, a[k]])), b];
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const common = Math.min(before.length, after.length);
    const pairs = before.slice(0, common).map((item, i) => redactPair(item, after[i]));
    return [
      [...pairs.map((p) => p[0]), ...before.slice(common).map((item) => redactAlone(item))],
      [...pairs.map((p) => p[1]), ...after.slice(common).map((item) => redactAlone(item))],
    ];
  }
  return [redactAlone(before), redactAlone(after)];
}

/** Masks every secret of one side (no counterpart to compare with). */
export function redactAlone(value: Plain, name?: string): Plain {
  if (name !== undefined && isSecretField(name)) return REDACTED;
  if (name === 'crt') return describeCertificate(value);
  if (Array.isArray(value)) return value.map((v) => redactAlone(v));
  if (isMapValue(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactAlone(v, k)]));
  return value;
}

/**
 * A certificate as a reader compares it: subject, expiry and fingerprint instead of a screenful of base64 (which is
 * public, but no one can read a change in it). Anything that does not decode is shown as it is.
 */
export function describeCertificate(value: Plain): Plain {
  if (typeof value !== 'string' || value === '') return value;
  try {
    const cert = new X509Certificate(decodePemField('crt', value));
    // Node reports an empty subject (upstream's aggregator CA has one) as undefined, whatever its typings say.
    const subject = (cert.subject as string | undefined)?.split('\n').join(',') || 'empty subject';
    const notAfter = new Date(cert.validTo).toISOString().slice(0, 10);
    return `<certificate ${subject}, not after ${notAfter}, SHA-256 ${cert.fingerprint256.slice(0, 23)}...>`;
  } catch {
    return value;
  }
}

function render(documents: readonly Plain[]): string[] {
  if (documents.length === 0) return [];
  const text = documents.map((d) => stringify(d, { indent: 4, lineWidth: 0 })).join('---\n');
  return text.replace(/\n$/, '').split('\n');
}

export interface DiffLabels {
  before: string;
  after: string;
}

/** The unified diff of the masked configs; '' when they are the same. `before` undefined: nothing stored yet. */
export function machineConfigDiff(before: MachineConfig | undefined, after: MachineConfig, labels: DiffLabels): string {
  const oldDocs = before?.toJS() ?? [];
  const newDocs = after.toJS();
  const a: Plain[] = [];
  const b: Plain[] = [];
  for (let i = 0; i < Math.max(oldDocs.length, newDocs.length); i++) {
    if (i >= newDocs.length) a.push(redactAlone(oldDocs[i]));
    else if (i >= oldDocs.length) b.push(redactAlone(newDocs[i]));
    else {
      const [x, y] = redactPair(oldDocs[i], newDocs[i]);
      a.push(x);
      b.push(y);
    }
  }
  return unifiedDiff(render(a), render(b), labels);
}

type Op = { kind: ' ' | '-' | '+'; line: string; oldNo: number; newNo: number };

/** A line diff (longest common subsequence) printed as unified hunks with three lines of context. */
export function unifiedDiff(a: readonly string[], b: readonly string[], labels: DiffLabels): string {
  const ops = diffLines(a, b);
  if (ops.every((o) => o.kind === ' ')) return '';
  const out = [`--- ${labels.before}`, `+++ ${labels.after}`];
  for (const hunk of hunks(ops)) {
    const first = hunk[0];
    const oldCount = hunk.filter((o) => o.kind !== '+').length;
    const newCount = hunk.filter((o) => o.kind !== '-').length;
    const oldStart = oldCount === 0 ? first.oldNo - 1 : first.oldNo;
    const newStart = newCount === 0 ? first.newNo - 1 : first.newNo;
    out.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.line}`);
  }
  return `${out.join('\n')}\n`;
}

function diffLines(a: readonly string[], b: readonly string[]): Op[] {
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..]
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ kind: ' ', line: a[i++], oldNo: i, newNo: ++j });
    else if (i < a.length && (j >= b.length || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push({ kind: '-', line: a[i++], oldNo: i, newNo: j + 1 });
    else ops.push({ kind: '+', line: b[j++], oldNo: i + 1, newNo: j });
  }
  return ops;
}

/** Groups changes with their context; changes closer than twice the context share a hunk. */
function hunks(ops: readonly Op[]): Op[][] {
  const changed = ops.map((o, k) => (o.kind === ' ' ? -1 : k)).filter((k) => k >= 0);
  const groups: [number, number][] = [];
  for (const k of changed) {
    const start = Math.max(0, k - CONTEXT_LINES);
    const end = Math.min(ops.length - 1, k + CONTEXT_LINES);
    const last = groups[groups.length - 1];
    if (last && start <= last[1] + 1) last[1] = end;
    else groups.push([start, end]);
  }
  return groups.map(([s, e]) => ops.slice(s, e + 1));
}
