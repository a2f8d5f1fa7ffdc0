// RFC 6902 operations applied to the parsed YAML of a single-document config, so the comments elsewhere survive.
// Each failure names the operation (`p.yaml: op 2 (replace /machine/foo)`) and what went wrong.
import { isDeepStrictEqual } from 'node:util';
import { isMap, isSeq } from 'yaml';
import type { Document, Node, YAMLMap, YAMLSeq } from 'yaml';
import { formatPointer, parsePointer } from './json-pointer.js';
import { describeOperation } from './patch.js';
import type { JsonPatch, JsonPatchOperation } from './patch.js';
import { PatchError } from './patch-error.js';
import { checkOperationCount, checkPatchedSize, yamlSize } from './patch-limits.js';
import { describeKind, findPair, nodeKind } from './yaml-nodes.js';

export const MULTI_DOCUMENT_REFUSAL = 'JSON6902 patches are not supported for multi-document machine configuration';

/**
 * Applies every operation in order; `after` runs after each one (the caller's shape check) with its label. The
 * document's size is tracked as it changes, so an operation that would make it too large is refused as it runs.
 */
export function applyJsonPatch(target: Document[], patch: JsonPatch, after?: (doc: Document, where: string) => void): void {
  if (target.length !== 1) throw new PatchError('', MULTI_DOCUMENT_REFUSAL);
  checkOperationCount(patch.source, patch.operations.length);
  const doc = target[0];
  const size = { now: yamlSize(doc.contents) };
  patch.operations.forEach((op, i) => {
    const where = `${patch.source}: ${describeOperation(i, op)}`;
    applyOperation(doc, op, where, size);
    after?.(doc, where);
  });
}

/** `size.now` follows the document: what an operation inserts is added, what it removes or overwrites subtracted. */
function applyOperation(doc: Document, op: JsonPatchOperation, where: string, size: { now: number }): void {
  const path = parsePointer(op.path, where);
  const insert = (value: Node) => {
    const added = yamlSize(value);
    checkPatchedSize(where, size.now + added);
    size.now += added - yamlSize(add(doc, path, value, where));
  };
  switch (op.op) {
    case 'add':
      return insert(doc.createNode(op.value, { aliasDuplicateObjects: false }) as Node);
    case 'remove':
      size.now -= yamlSize(remove(doc, path, where));
      return;
    case 'replace':
      size.now -= yamlSize(remove(doc, path, where));
      return insert(doc.createNode(op.value, { aliasDuplicateObjects: false }) as Node);
    case 'move': {
      const from = parsePointer(op.from!, where);
      if (path.length > from.length && from.every((s, i) => s === path[i])) throw new PatchError(where, `cannot move ${op.from} into itself`);
      const moved = remove(doc, from, where, 'from');
      size.now -= yamlSize(moved);
      return insert(moved);
    }
    case 'copy': {
      const source = lookup(doc, parsePointer(op.from!, where), where, 'from');
      // measured before cloning: the clone of a subtree the size of the document is what must not be built
      checkPatchedSize(where, size.now + yamlSize(source));
      return insert(source.clone() as Node);
    }
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

/** Puts `value` at `path`; returns what it overwrote (a map key's old value, the old root), if anything. */
function add(doc: Document, path: string[], value: Node, where: string): unknown {
  if (path.length === 0) {
    const old = doc.contents;
    doc.contents = value as typeof doc.contents;
    return old;
  }
  const parent = path.length === 1 ? (doc.contents as Node | null) : lookup(doc, path, where, 'path', path.length - 1);
  const last = path[path.length - 1];
  if (isMap(parent)) {
    const old = findPair(parent as YAMLMap, last)?.value;
    (parent as YAMLMap).set(doc.createNode(last), value);
    return old;
  }
  if (isSeq(parent)) {
    const items = (parent as YAMLSeq).items;
    const index = last === '-' ? items.length : arrayIndex(last);
    if (index === undefined || index > items.length)
      throw new PatchError(where, `list index ${JSON.stringify(last)} is out of range: the list has ${items.length} items (use "-" to append)`);
    items.splice(index, 0, value as never);
    return undefined;
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
