// RFC 6902 operations applied to the parsed YAML of a single-document config, so the comments elsewhere survive.
// Each failure names the operation (`p.yaml: op 2 (replace /machine/foo)`) and what went wrong.
import { isDeepStrictEqual } from 'node:util';
import { isMap, isSeq } from 'yaml';
import type { Document, Node, YAMLMap, YAMLSeq } from 'yaml';
import { formatPointer, parsePointer } from './json-pointer.js';
import { describeOperation } from './patch.js';
import type { JsonPatch, JsonPatchOperation } from './patch.js';
import { PatchError } from './patch-error.js';
import { describeKind, findPair, nodeKind } from './yaml-nodes.js';

export const MULTI_DOCUMENT_REFUSAL = 'JSON6902 patches are not supported for multi-document machine configuration';

/** Applies every operation in order; `after` runs after each one (the caller's shape check) with its label. */
export function applyJsonPatch(target: Document[], patch: JsonPatch, after?: (doc: Document, where: string) => void): void {
  if (target.length !== 1) throw new PatchError('', MULTI_DOCUMENT_REFUSAL);
  const doc = target[0];
  patch.operations.forEach((op, i) => {
    const where = `${patch.source}: ${describeOperation(i, op)}`;
    applyOperation(doc, op, where);
    after?.(doc, where);
  });
}

function applyOperation(doc: Document, op: JsonPatchOperation, where: string): void {
  const path = parsePointer(op.path, where);
  switch (op.op) {
    case 'add':
      return add(doc, path, doc.createNode(op.value, { aliasDuplicateObjects: false }) as Node, where);
    case 'remove':
      return void remove(doc, path, where);
    case 'replace':
      remove(doc, path, where);
      return add(doc, path, doc.createNode(op.value, { aliasDuplicateObjects: false }) as Node, where);
    case 'move': {
      const from = parsePointer(op.from!, where);
      if (path.length > from.length && from.every((s, i) => s === path[i])) throw new PatchError(where, `cannot move ${op.from} into itself`);
      return add(doc, path, remove(doc, from, where, 'from'), where);
    }
    case 'copy':
      return add(doc, path, (lookup(doc, parsePointer(op.from!, where), where, 'from').clone() as Node), where);
    case 'test': {
      const actual: unknown = lookup(doc, path, where).toJSON();
      if (!isDeepStrictEqual(normalizeJson(actual), normalizeJson(op.value))) throw new PatchError(where, 'test failed: the value at this path differs from the one given');
      return;
    }
  }
}

/** The node at the first `upto` segments of `path`; a miss names the segment where the path breaks off. */
function lookup(doc: Document, path: string[], where: string, which = 'path', upto = path.length): Node {
  let node: Node | null | undefined = doc.contents as Node | null;
  for (const [i, segment] of path.slice(0, upto).entries()) {
    node = child(node, segment);
    if (node === undefined || node === null) throw notFound(where, which, path, i + 1);
  }
  if (node === null || node === undefined) throw notFound(where, which, path, upto);
  return node;
}

function child(node: Node | null, segment: string): Node | null | undefined {
  if (isMap(node)) return findPair(node, segment)?.value as Node | null | undefined;
  if (isSeq(node)) {
    const index = arrayIndex(segment);
    return index === undefined ? undefined : (node.items[index] as Node | undefined);
  }
  return undefined;
}

function add(doc: Document, path: string[], value: Node, where: string): void {
  if (path.length === 0) {
    doc.contents = value as typeof doc.contents;
    return;
  }
  const parent = path.length === 1 ? (doc.contents as Node | null) : lookup(doc, path, where, 'path', path.length - 1);
  const last = path[path.length - 1];
  if (isMap(parent)) {
    (parent as YAMLMap).set(doc.createNode(last), value);
    return;
  }
  if (isSeq(parent)) {
    const items = (parent as YAMLSeq).items;
    const index = last === '-' ? items.length : arrayIndex(last);
    if (index === undefined || index > items.length)
      throw new PatchError(where, `list index ${JSON.stringify(last)} is out of range: the list has ${items.length} items (use "-" to append)`);
    items.splice(index, 0, value as never);
    return;
  }
  throw new PatchError(where, `${formatPointer(path.slice(0, -1)) || '/'} is ${describeKind(nodeKind(parent))}, not a map or a list`);
}

function remove(doc: Document, path: string[], where: string, which = 'path'): Node {
  if (path.length === 0) throw new PatchError(where, 'cannot remove the whole document');
  const node = lookup(doc, path, where, which);
  const parent = path.length === 1 ? (doc.contents as Node) : lookup(doc, path, where, which, path.length - 1);
  const last = path[path.length - 1];
  if (isMap(parent)) parent.delete(last);
  else if (isSeq(parent)) parent.items.splice(arrayIndex(last)!, 1);
  return node;
}

function arrayIndex(segment: string): number | undefined {
  return /^(0|[1-9][0-9]*)$/.test(segment) ? Number(segment) : undefined;
}

/** `missing` segments of `path` lead to nothing; a shorter prefix is named so the user sees where the path breaks. */
function notFound(where: string, which: string, path: string[], missing: number): PatchError {
  const pointer = formatPointer(path.slice(0, missing));
  const detail = missing < path.length ? ` (${pointer || '/'} does not exist)` : '';
  return new PatchError(where, which === 'from' ? `"from" path not found${detail}` : `path not found${detail}`);
}

function normalizeJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null)) as unknown;
}
