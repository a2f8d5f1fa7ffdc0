// `$patch: delete` in a strategic merge patch: under a key it removes that key from the config, in a list item it
// removes the config's list item whose value for the item's first other key matches, at the top of a document it
// removes the whole document. The directives are taken out of the (cloned) patch before the rest is merged.
import { isMap, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter, Node, Pair, YAMLMap } from 'yaml';
import { dottedPath } from './json-pointer.js';
import type { PathSegment } from './json-pointer.js';
import { PatchError } from './patch-error.js';
import { findPair, keyOf, lineOf } from './yaml-nodes.js';

export interface DeleteDirective {
  /** Path of the key to delete, or of the list to delete an item from. */
  path: string[];
  /** For a list item: the item whose `key` has this value. */
  item?: { key: string; value: string };
  line: number | undefined;
}

export interface ExtractedDeletes {
  wholeDocument: boolean;
  line: number | undefined;
  deletes: DeleteDirective[];
}

type Outcome = 'keep' | 'remove';

export function extractDeletes(doc: Document, source: string, lines: LineCounter): ExtractedDeletes {
  const out: ExtractedDeletes = { wholeDocument: false, line: undefined, deletes: [] };
  const where = (node: Node) => `${source}${lineOf(node, lines) ? ` line ${lineOf(node, lines)}` : ''}`;

  const directive = (map: YAMLMap): boolean => {
    const pair = findPair(map, '$patch');
    if (!pair) return false;
    const value = isScalar(pair.value) ? pair.value.value : undefined;
    if (value !== 'delete') throw new PatchError(where(map), `"$patch: ${String(value)}" is not supported; the only directive is "$patch: delete"`);
    return true;
  };

  const walk = (node: Node | null, path: PathSegment[], parent: 'document' | 'map' | 'list'): Outcome => {
    if (isMap(node)) {
      if (directive(node)) {
        record(node, path, parent);
        return 'remove';
      }
      return sweep(node.items as Pair[], (pair) => walk(pair.value as Node | null, [...path, keyOf(pair)], 'map'));
    }
    if (isSeq(node)) return sweep(node.items as Node[], (item, i) => walk(item, [...path, i], 'list'));
    return 'keep';
  };

  const record = (map: YAMLMap, path: PathSegment[], parent: 'document' | 'map' | 'list') => {
    const line = lineOf(map, lines);
    if (parent === 'document') {
      out.wholeDocument = true;
      out.line = line;
      return;
    }
    const listPath = parent === 'list' ? path.slice(0, -1) : path;
    if (listPath.some((s) => typeof s === 'number'))
      throw new PatchError(where(map), `cannot delete inside a list item (${dottedPath(path)}); delete the whole item by its key, or use a JSON patch`);
    const strings = listPath as string[];
    if (parent === 'map') {
      out.deletes.push({ path: strings, line });
      return;
    }
    const other = (map.items as Pair[]).find((p) => keyOf(p) !== '$patch');
    if (!other || !isScalar(other.value))
      throw new PatchError(where(map), `a list item with "$patch: delete" needs a key that names the item (e.g. "interface: eth0"), at ${dottedPath(path)}`);
    out.deletes.push({ path: strings, item: { key: keyOf(other), value: String(other.value.value) }, line });
  };

  if (isMap(doc.contents) && directive(doc.contents)) record(doc.contents, [], 'document');
  else walk(doc.contents as Node | null, [], 'document');
  return out;
}

/** Removes the items `visit` says to remove; a collection emptied that way goes too, as upstream drops it. */
function sweep<T>(items: T[], visit: (item: T, index: number) => Outcome): Outcome {
  let removed = false;
  for (let i = items.length - 1; i >= 0; i--) {
    if (visit(items[i], i) === 'remove') {
      items.splice(i, 1);
      removed = true;
    }
  }
  return removed && items.length === 0 ? 'remove' : 'keep';
}
