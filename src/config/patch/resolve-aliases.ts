// Patches are merged node by node into the config, so an alias in a patch would arrive as an alias to an anchor the
// config does not have (stored as `{source: NAME}`, or unprintable). Each alias is replaced by a copy of what it
// names before anything is merged, within a budget: a few lines of nested aliases can expand to billions of nodes.
import { isAlias, isMap, isPair, isSeq, visit } from 'yaml';
import type { Document, Node } from 'yaml';
import { PatchError } from './patch-error.js';

/** Nodes that alias expansion may add to one patch: far above any real patch, far below what hurts. */
export const MAX_ALIAS_EXPANSION = 10_000;

export function resolveAliases(doc: Document, source: string): void {
  let budget = MAX_ALIAS_EXPANSION;
  const expand = (node: unknown): unknown => {
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (!target) throw new PatchError(source, `the alias *${node.source} has no anchor &${node.source} before it`);
      const copy = target.clone() as Node;
      budget -= countNodes(copy);
      if (budget < 0)
        throw new PatchError(source, `YAML aliases expand to more than ${MAX_ALIAS_EXPANSION} nodes (an "alias bomb"?); write the values out instead of aliasing them`);
      return expand(copy);
    }
    if (isMap(node)) {
      for (const pair of node.items) {
        pair.key = expand(pair.key);
        pair.value = expand(pair.value);
      }
    } else if (isSeq(node)) node.items = node.items.map(expand);
    return node;
  };
  doc.contents = expand(doc.contents) as typeof doc.contents;
  // anchors go only once every alias is resolved: the config they are merged into has no use for them
  visit(doc, { Node: (_key, node) => void ((node as { anchor?: string }).anchor = undefined) });
}

function countNodes(node: unknown): number {
  if (isMap(node)) return 1 + node.items.reduce((n, p) => n + (isPair(p) ? countNodes(p.key) + countNodes(p.value) : 0), 0);
  if (isSeq(node)) return 1 + node.items.reduce<number>((n, item) => n + countNodes(item), 0);
  return 1;
}
