// The canonical encoding a record's hash is taken over: JSON with object keys sorted at every level and no spaces, so
// the same record hashes the same in every process and backend, whatever order its fields were written or read in.
import { createHash } from 'node:crypto';
import type { AuditRecordSpec } from '../../resources/audit-records.js';

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Hex SHA-256 of the record's canonical encoding: what the next record carries as `prev`. */
export function recordHash(spec: AuditRecordSpec): string {
  return createHash('sha256').update(canonicalRecord(spec) ?? canonicalJson(spec)).digest('hex');
}

/** A record's fields in canonical (sorted) order. */
const RECORD_KEYS = ['action', 'actor', 'details', 'prev', 'seq', 'source', 'time'] as const;
const KNOWN = new Set<string>(RECORD_KEYS);

/**
 * canonicalJson of a record of the usual shape, written out directly: it runs for every record appended and every
 * record verified, and the generic walk (entries, filter, sort, map at each level) is most of the hashing cost.
 * Undefined for any other shape (a record edited in the store, say), which then takes the generic walk: both give
 * the same text for every record this accepts (a property test holds them equal).
 */
function canonicalRecord(spec: AuditRecordSpec): string | undefined {
  for (const key in spec) if (!KNOWN.has(key)) return undefined;
  const details = spec.details;
  if (details === null || typeof details !== 'object' || Array.isArray(details)) return undefined;
  let out = '{';
  let first = true;
  for (const key of RECORD_KEYS) {
    const value = key === 'details' ? undefined : spec[key];
    if (key !== 'details' && value === undefined) continue;
    out += `${first ? '' : ','}"${key}":`;
    first = false;
    if (key !== 'details') {
      if (typeof value === 'object') return undefined;
      out += JSON.stringify(value);
      continue;
    }
    const flat = flatObject(details);
    if (flat === undefined) return undefined;
    out += flat;
  }
  return `${out}}`;
}

/** A flat object (values: strings, numbers, booleans, lists of strings) in canonical form; undefined otherwise. */
function flatObject(object: Record<string, unknown>): string | undefined {
  const keys = Object.keys(object).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const value = object[key];
    if (value === undefined) continue;
    let text: string;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') text = JSON.stringify(value);
    else if (Array.isArray(value) && value.every((item) => typeof item === 'string')) text = `[${value.map((item) => JSON.stringify(item)).join(',')}]`;
    else return undefined;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${text}`;
    first = false;
  }
  return `${out}}`;
}
