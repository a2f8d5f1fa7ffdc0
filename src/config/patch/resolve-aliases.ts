// Patches are merged node by node into the config, so an alias in a patch would arrive as an alias to an anchor the
// config does not have (stored as `{source: NAME}`, or unprintable). Each alias is replaced by a copy of what it
// names before anything is merged, within a budget: a few lines of nested aliases can expand to billions of nodes.
import { isAlias, isMap, isNode, isPair, isSeq, visit } from 'yaml';
import type { Document, Node } from 'yaml';
import { PatchError } from './patch-error.js';

/** Nodes that alias expansion may add to one patch: far above any real patch, far below what hurts. */
export const MAX_ALIAS_EXPANSION = 10_000;

export function resolveAliases(doc: Document, source: string): void {
  let budget = MAX_ALIAS_EXPANSION;
  // One walk in document order, noting each anchor as it is met, so an alias names the last anchor before it as YAML
  // says (asking the yaml library instead walks the whole document per alias: a 4 MiB patch took minutes). A node is
  // in `open` while its own children are walked: an alias to it there is a structure that contains itself.
  const anchors = new Map<string, Node>();
  const open = new Set<Node>();
  const expand = (node: unknown): unknown => {
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (!target) throw new PatchError(source, `the alias *${node.source} has no anchor &${node.source} before it`);
      if (open.has(target)) throw new PatchError(source, `the alias *${node.source} is inside the value &${node.source} names, which would contain itself for ever`);
      // the copy defines no anchor: one it carried would shadow a later anchor of the same name
      const copy = withoutAnchors(target.clone() as Node);
      budget -= countNodes(copy);
      if (budget < 0)
        throw new PatchError(source, `YAML aliases expand to more than ${MAX_ALIAS_EXPANSION} nodes (an "alias bomb"?); write the values out instead of aliasing them`);
      // the target's own aliases were replaced when it was walked (it comes first), so the copy holds none
      return copy;
    }
    if (!isNode(node)) return node;
    if (node.anchor) anchors.set(node.anchor, node);
    if (!isMap(node) && !isSeq(node)) return node;
    open.add(node);
    if (isMap(node)) {
      for (const pair of node.items) {
        pair.key = expand(pair.key);
        pair.value = expand(pair.value);
      }
    } else node.items = node.items.map(expand);
    open.delete(node);
    return node;
  };
  doc.contents = expand(doc.contents) as typeof doc.contents;
  // anchors go only once every alias is resolved: the config they are merged into has no use for them
  withoutAnchors(doc);
}

function withoutAnchors<T extends Node | Document>(node: T): T {
  visit(node, { Node: (_key, n) => void ((n as { anchor?: string }).anchor = undefined) });
  return node;
}

function countNodes(node: unknown): number {
  if (isMap(node)) return 1 + node.items.reduce((n, p) => n + (isPair(p) ? countNodes(p.key) + countNodes(p.value) : 0), 0);
  if (isSeq(node)) return 1 + node.items.reduce<number>((n, item) => n + countNodes(item), 0);
  return 1;
}
