// Talos's strategic merge, applied to the parsed YAML of the config so comments and key order survive. Maps merge key
// by key; lists append (certSANs and acceptedCAs accumulate); scalars overwrite, except that an empty string, a zero
// or a null in the patch leave the config's value (Go's zero values), while an explicit `false` applies. Exceptions
// (replaced fields, lists merged by item identity, URL fields) come from merge-rules.ts.
import { Scalar, isMap, isScalar, isSeq, visit } from 'yaml';
import type { Document, LineCounter, Node, Pair, YAMLMap, YAMLSeq } from 'yaml';
import { isPlainMap } from '../yaml-read.js';
import { extractDeletes } from './delete-directives.js';
import type { DeleteDirective } from './delete-directives.js';
import { dottedPath, formatPointer } from './json-pointer.js';
import type { PathSegment } from './json-pointer.js';
import { PLAIN_RULES, V1ALPHA1_RULES } from './merge-rules.js';
import type { MergeRules } from './merge-rules.js';
import { mergeUrl } from './url-merge.js';
import type { StrategicMergePatch } from './patch.js';
import { PatchError } from './patch-error.js';
import { describeKind, findPair, keyOf, lineOf, nodeKind } from './yaml-nodes.js';

interface Context {
  source: string;
  lines: LineCounter;
  rules: MergeRules;
}

/** Applies one strategic merge patch to the config's documents, in place. The patch itself is left untouched. */
export function applyStrategicMerge(target: Document[], patch: StrategicMergePatch): void {
  for (const original of patch.documents) {
    refuseTypedScalars(original, patch);
    const doc = original.clone();
    const v1alpha1 = !doc.has('kind');
    const ctx: Context = { source: patch.source, lines: patch.lines, rules: v1alpha1 ? V1ALPHA1_RULES : PLAIN_RULES };
    const { wholeDocument, deletes, line } = extractDeletes(doc, patch.source, patch.lines);
    const index = target.findIndex((t) => sameDocument(t, doc, v1alpha1));
    const at = (l: number | undefined) => `${patch.source}${l ? ` line ${l}` : ''}`;

    if (wholeDocument) {
      if (v1alpha1) throw new PatchError(at(line), 'the v1alpha1 document cannot be deleted; delete the keys you want gone instead');
      if (index < 0) throw new PatchError(at(line), `$patch: delete: no ${describeDocument(doc)} document in the config`);
      target.splice(index, 1);
      continue;
    }
    if (index < 0) {
      if (deletes.length) throw new PatchError(at(deletes[0].line), `$patch: delete: no ${describeDocument(doc)} document in the config`);
      if (!onlyIdentity(doc)) target.push(doc);
      continue;
    }
    for (const d of deletes) applyDelete(target[index], d, at(d.line));
    if (!onlyIdentity(doc)) mergeInto(target[index], doc, ctx);
  }
}

/** `!!binary` and `!!timestamp` read as a Buffer and a Date, which the config's document cannot write back. */
function refuseTypedScalars(doc: Document, patch: StrategicMergePatch): void {
  visit(doc, {
    Scalar(_, node) {
      if (nodeKind(node) !== 'value') return;
      const line = lineOf(node, patch.lines);
      throw new PatchError(`${patch.source}${line ? ` line ${line}` : ''}`, `YAML tag ${(node.tag ?? '').replace('tag:yaml.org,2002:', '!!')} is not supported in patches; write the value as a plain string`);
    },
  });
}

function mergeInto(target: Document, patch: Document, ctx: Context): void {
  const merged = mergeNode(target.contents as Node | null, patch.contents as Node | null, [], ctx);
  if (merged !== target.contents) target.contents = merged as typeof target.contents;
}

/** The node to put where `left` was (`left` itself when the patch changes nothing there). */
function mergeNode(left: Node | null, right: Node | null, path: PathSegment[], ctx: Context): Node | null {
  const field = shapeOf(path);
  const rightKind = nodeKind(right);
  const leftKind = nodeKind(left);
  if (rightKind === 'alias') throw new PatchError(where(right, path, ctx), 'YAML aliases are not supported in patches; write the value out');
  if (rightKind === 'null') return left;
  if (leftKind === 'null' || leftKind === 'alias') return fresh(right!, path, ctx);
  if (ctx.rules.replaces(field)) return fresh(right!, path, ctx);

  if (isMap(right)) {
    if (!isMap(left)) throw mismatch(left, right, path, ctx);
    mergeMap(left, right, path, ctx);
    return left;
  }
  if (isSeq(right)) {
    if (!isSeq(left)) throw mismatch(left, right, path, ctx);
    mergeList(left, right, path, ctx);
    return left;
  }
  if (isMap(left) || isSeq(left)) throw mismatch(left, right, path, ctx);
  const value = (right as Scalar).value;
  if (value === '' || value === 0) return left; // Go's zero values do not overwrite; `false` does
  if (ctx.rules.isUrl(field) && typeof value === 'string' && typeof (left as Scalar).value === 'string') {
    return keepComments(left as Scalar, new Scalar(mergeUrl((left as Scalar).value as string, value)));
  }
  return keepComments(left as Scalar, fresh(right!, path, ctx) as Scalar);
}

function mergeMap(left: YAMLMap, right: YAMLMap, path: PathSegment[], ctx: Context): void {
  for (const pair of right.items as Pair[]) {
    const key = keyOf(pair);
    const existing = findPair(left, key);
    if (!existing) {
      if (nodeKind(pair.value) === 'null') continue;
      const added = pair.clone() as Pair;
      added.value = fresh(pair.value as Node, [...path, key], ctx);
      left.items.push(added as never);
      continue;
    }
    const merged = mergeNode(existing.value as Node | null, pair.value as Node | null, [...path, key], ctx);
    if (merged !== existing.value) existing.value = merged;
  }
}

function mergeList(left: YAMLSeq, right: YAMLSeq, path: PathSegment[], ctx: Context): void {
  const same = ctx.rules.sameItem(shapeOf(path));
  for (const item of right.items as Node[]) {
    const plain: unknown = (item as Node | null)?.toJSON?.();
    const at = same && isPlainMap(plain) ? (left.items as Node[]).findIndex((l) => same(l?.toJSON?.(), plain)) : -1;
    if (at >= 0) {
      const merged = mergeNode(left.items[at] as Node, item, [...path, at], ctx);
      if (merged !== left.items[at]) left.items[at] = merged;
    } else {
      left.items.push(fresh(item, [...path, left.items.length], ctx) as never);
    }
  }
}

/** A copy of a patch node for the config, with the rules that apply to new values (inline manifest newlines). */
function fresh(node: Node, path: PathSegment[], ctx: Context): Node {
  const copy = node.clone() as Node;
  normalize(copy, path, ctx);
  return copy;
}

function normalize(node: Node, path: PathSegment[], ctx: Context): void {
  if (isMap(node)) for (const p of node.items as Pair[]) normalize(p.value as Node, [...path, keyOf(p)], ctx);
  else if (isSeq(node)) (node.items as Node[]).forEach((item, i) => normalize(item, [...path, i], ctx));
  else if (isScalar(node) && typeof node.value === 'string' && ctx.rules.trimsLeadingNewlines(shapeOf(path))) node.value = node.value.replace(/^\n+/, '');
}

function keepComments(left: Scalar, right: Scalar): Scalar {
  if (right.commentBefore === undefined && left.commentBefore) right.commentBefore = left.commentBefore;
  if (right.comment === undefined && left.comment) right.comment = left.comment;
  return right;
}

function applyDelete(doc: Document, d: DeleteDirective, where: string): void {
  const parentPath = d.item ? d.path : d.path.slice(0, -1);
  const parent: unknown = parentPath.length ? doc.getIn(parentPath, true) : doc.contents;
  const missing = () => new PatchError(where, `$patch: delete ${describeDelete(d)}: not in the config, so there is nothing to delete`);
  if (d.item) {
    if (!isSeq(parent)) throw missing();
    const at = (parent.items as Node[]).findIndex((item) => {
      const pair = isMap(item) ? findPair(item, d.item!.key) : undefined;
      return pair !== undefined && isScalar(pair.value) && String(pair.value.value) === d.item!.value;
    });
    if (at < 0) throw missing();
    parent.items.splice(at, 1);
    return;
  }
  const key = d.path[d.path.length - 1];
  if (!isMap(parent) || !findPair(parent, key)) throw missing();
  parent.delete(key);
}

function describeDelete(d: DeleteDirective): string {
  return d.item ? `${dottedPath(d.path)} item ${d.item.key}=${d.item.value}` : dottedPath(d.path);
}

function mismatch(left: Node | null, right: Node | null, path: PathSegment[], ctx: Context): PatchError {
  return new PatchError(where(right, path, ctx), `expected ${describeKind(nodeKind(left))} (as in the config), got ${describeKind(nodeKind(right))}`);
}

function where(node: Node | null, path: PathSegment[], ctx: Context): string {
  const line = lineOf(node, ctx.lines);
  return `${ctx.source}${line ? ` line ${line}` : ''}: ${formatPointer(path) || '/'}`;
}

/** `machine.network.interfaces.*.vlans`: the path with list positions blanked, as merge-rules.ts keys fields. */
function shapeOf(path: readonly PathSegment[]): string {
  return path.map((s) => (typeof s === 'number' ? '*' : s)).join('.');
}

function sameDocument(config: Document, patch: Document, v1alpha1: boolean): boolean {
  if (!isMap(config.contents)) return false;
  if (v1alpha1) return !config.has('kind') && config.get('version') === 'v1alpha1';
  if (config.get('kind') !== patch.get('kind') || config.get('apiVersion') !== patch.get('apiVersion')) return false;
  return !patch.has('name') || config.get('name') === patch.get('name');
}

function describeDocument(doc: Document): string {
  const name = doc.get('name');
  return `${String(doc.get('apiVersion') ?? '')}/${String(doc.get('kind') ?? '')}${name ? ` named "${String(name)}"` : ''}`;
}

/** A document left with nothing but what identifies it (after its deletes were taken out) merges nothing. */
function onlyIdentity(doc: Document): boolean {
  if (!isMap(doc.contents)) return true;
  return (doc.contents.items as Pair[]).every((p) => ['version', 'kind', 'apiVersion', 'name'].includes(keyOf(p)));
}
