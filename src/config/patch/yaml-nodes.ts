// Small helpers over `yaml` nodes shared by the patchers: kinds, keys and the line a node starts on.
import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { LineCounter, Node, Pair, YAMLMap } from 'yaml';

export type NodeKind = 'null' | 'map' | 'list' | 'string' | 'number' | 'boolean' | 'alias' | 'value';

export function nodeKind(node: unknown): NodeKind {
  if (node === null || node === undefined) return 'null';
  if (isMap(node)) return 'map';
  if (isSeq(node)) return 'list';
  if (isAlias(node)) return 'alias';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'string') return 'string';
    if (typeof v === 'number' || typeof v === 'bigint') return 'number';
    if (typeof v === 'boolean') return 'boolean';
  }
  return 'value';
}

/** `a map`, `a string`: for messages. */
export function describeKind(kind: NodeKind): string {
  return kind === 'null' ? 'null' : kind === 'alias' ? 'an alias' : `a ${kind}`;
}

export function keyOf(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

export function findPair(map: YAMLMap, key: string): Pair | undefined {
  return (map.items as Pair[]).find((p) => keyOf(p) === key);
}

export function lineOf(node: Node | null | undefined, lines: LineCounter): number | undefined {
  const start = node?.range?.[0];
  return start === undefined ? undefined : lines.linePos(start).line;
}
