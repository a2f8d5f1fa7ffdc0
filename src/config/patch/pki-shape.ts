// The types of the machine config fields this system reads (the PKI fields), checked on a patch before it is merged so
// an error can point at the patch's own line: `patch line 3: /machine/certSANs/0: expected a string, got a map`.
// Fields not listed are not ours to judge; Talos itself validates them.
import { isMap, isSeq } from 'yaml';
import type { LineCounter, Node, Pair } from 'yaml';
import { formatPointer } from './json-pointer.js';
import type { PathSegment } from './json-pointer.js';
import { describeKind, keyOf, lineOf, nodeKind } from './yaml-nodes.js';

type Shape = 'string' | { map: Record<string, Shape> } | { list: Shape };

const str: Shape = 'string';
const pair: Shape = { map: { crt: str, key: str } };
const certList: Shape = { list: { map: { crt: str } } };
const names: Shape = { list: str };

export const V1ALPHA1_PKI_SHAPE: Shape = {
  map: {
    version: str,
    machine: { map: { type: str, token: str, ca: pair, acceptedCAs: certList, certSANs: names, network: { map: { hostname: str } } } },
    cluster: {
      map: {
        id: str,
        secret: str,
        clusterName: str,
        token: str,
        secretboxEncryptionSecret: str,
        aescbcEncryptionSecret: str,
        controlPlane: { map: { endpoint: str } },
        ca: pair,
        acceptedCAs: certList,
        aggregatorCA: pair,
        serviceAccount: { map: { key: str } },
        apiServer: { map: { certSANs: names } },
        etcd: { map: { ca: pair } },
        network: { map: { podSubnets: names, serviceSubnets: names } },
      },
    },
  },
};

export interface ShapeProblem {
  pointer: string;
  line: number | undefined;
  problem: string;
}

/** The first field whose type is wrong, or undefined. `at` is where `node` sits in the document. */
export function pkiShapeProblem(node: Node | null, lines?: LineCounter, at: PathSegment[] = [], shape: Shape | undefined = shapeAt(at)): ShapeProblem | undefined {
  if (!shape) return undefined;
  const kind = nodeKind(node);
  if (kind === 'null' || kind === 'alias') return undefined;
  const fail = (expected: string): ShapeProblem => ({
    pointer: formatPointer(at) || '/',
    line: lines ? lineOf(node, lines) : undefined,
    problem: `expected ${expected}, got ${describeKind(kind)}`,
  });
  if (shape === 'string') return kind === 'string' ? undefined : fail('a string');
  if ('list' in shape) {
    if (!isSeq(node)) return fail('a list');
    for (const [i, item] of (node.items as Node[]).entries()) {
      const problem = pkiShapeProblem(item, lines, [...at, i], shape.list);
      if (problem) return problem;
    }
    return undefined;
  }
  if (!isMap(node)) return fail('a map');
  for (const p of node.items as Pair[]) {
    const key = keyOf(p);
    const problem = pkiShapeProblem(p.value as Node | null, lines, [...at, key], fieldShape(shape, key));
    if (problem) return problem;
  }
  return undefined;
}

/** The shape of the field at `path` (list positions may be any number or "-"), for checking a JSON patch value. */
export function shapeAt(path: readonly PathSegment[]): Shape | undefined {
  let shape: Shape | undefined = V1ALPHA1_PKI_SHAPE;
  for (const segment of path) {
    if (!shape || shape === 'string') return undefined;
    shape = 'list' in shape ? shape.list : fieldShape(shape, String(segment));
  }
  return shape;
}

/** Own fields only: a patch key such as `__proto__` or `constructor` is data we do not judge, not Object's. */
function fieldShape(shape: { map: Record<string, Shape> }, key: string): Shape | undefined {
  return Object.hasOwn(shape.map, key) ? shape.map[key] : undefined;
}
