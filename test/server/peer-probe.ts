// Whether control planes keep accepting each other's certificates of a CA with no server here to call: every ordered
// pair meets in a real mutual-TLS handshake with the certificates and trust each one holds at that moment, the way two
// etcd members (the etcd CA), a Kubernetes client and another control plane's kube-apiserver (the Kubernetes CA), or
// kube-apiserver and an aggregated API server (the front-proxy client, the aggregator CA) would. Reads go through
// `read`: a node's store in-process, or its apid.
import type { IssuedCertificatesSpec } from '../../src/resources/index.js';
import { mutualHandshake } from './peer-handshake.js';

export type PeerCA = 'kubernetes' | 'etcd' | 'aggregator';

/** A resource's spec on a node; undefined when the node cannot be read (a killed process) or has none. */
export type SpecReader = (type: string, id: string) => Promise<unknown>;

interface PeerRules {
  root: [string, string];
  trust: (rootSpec: never) => { issuing: string; accepted: string[] };
  leaves: [string, string];
  /** The certificate the node presents to its peer (its client certificate for that peer's server). */
  client: string;
  /** What the node serves its peer; for the front-proxy client, whose server is not this CA's, any certificate will do. */
  server: string;
  /** Whether the client checks the server against the same CA (etcd peers do; the aggregated API server is not this CA's). */
  checksServer: boolean;
}

export const PEER_RULES: Record<PeerCA, PeerRules> = {
  kubernetes: {
    root: ['KubernetesRootSecrets', 'k8s'],
    trust: (s: { ca: { crt: string }; acceptedCAs: string[] }) => ({ issuing: s.ca.crt, accepted: s.acceptedCAs }),
    leaves: ['KubernetesSecrets', 'k8s'],
    client: 'admin',
    server: 'kube-apiserver',
    checksServer: true,
  },
  etcd: {
    root: ['EtcdRootSecrets', 'etcd'],
    trust: (s: { ca: { crt: string }; acceptedCAs: string[] }) => ({ issuing: s.ca.crt, accepted: s.acceptedCAs }),
    leaves: ['EtcdSecrets', 'etcd'],
    client: 'peer',
    server: 'peer',
    checksServer: true,
  },
  aggregator: {
    root: ['KubernetesRootSecrets', 'k8s'],
    trust: (s: { aggregatorCA: { crt: string }; aggregatorAcceptedCAs: string[] }) => ({ issuing: s.aggregatorCA.crt, accepted: s.aggregatorAcceptedCAs }),
    leaves: ['KubernetesSecrets', 'k8s'],
    client: 'front-proxy-client',
    server: 'kube-apiserver',
    checksServer: false,
  },
};

export interface PeerView {
  issuing: string;
  accepted: string[];
  client: { crt: string; key: string };
  server: { crt: string; key: string };
}

export async function peerView(ca: PeerCA, read: SpecReader): Promise<PeerView | undefined> {
  const rules = PEER_RULES[ca];
  const root = await read(...rules.root);
  const leaves = (await read(...rules.leaves)) as IssuedCertificatesSpec | undefined;
  const client = leaves?.certificates[rules.client];
  const server = leaves?.certificates[rules.server];
  if (!root || !client || !server) return undefined;
  return { ...rules.trust(root as never), client, server };
}

/** A handshake from `from` to `to`: undefined when both accepted the other. */
export function peerHandshake(ca: PeerCA, from: PeerView, to: PeerView): Promise<string | undefined> {
  const checksServer = PEER_RULES[ca].checksServer;
  return mutualHandshake({ cert: to.server.crt, key: to.server.key, ca: to.accepted }, { cert: from.client.crt, key: from.client.key, ...(checksServer ? { ca: from.accepted } : {}) });
}

export interface PeerTally {
  failures: string[];
  /** Real handshakes made; a pair of views met before is judged by that handshake's verdict (see `verdicts`). */
  handshakes: number;
  /** Pairs judged between a node issuing from one CA and a node issuing from the other: the overlap at work. */
  crossed: number;
  /**
   * The verdict of each pair of views already shaken hands on. A rotation changes a node's views a few times, and a
   * round every few tens of milliseconds meets the same pair of views again and again: the same certificates, keys and
   * trust lists give OpenSSL the same verdict within a test's minutes, so only a pair not met before costs a handshake.
   */
  verdicts: Map<string, string | undefined>;
}

export const newTally = (): PeerTally => ({ failures: [], handshakes: 0, crossed: 0, verdicts: new Map() });

/**
 * One round: every ordered pair of nodes, each judged on views the two nodes held at one moment (pairAtOneMoment). A
 * pair with a node that cannot be read is skipped (a node that is down is not a trust failure); any refusal counts.
 */
export async function probePeers(ca: PeerCA, nodes: { name: string; read: SpecReader }[], tally: PeerTally): Promise<void> {
  for (const from of nodes) {
    for (const to of nodes) {
      if (from === to) continue;
      const pair = await pairAtOneMoment(ca, from.read, to.read);
      if (!pair) continue;
      const [a, b] = pair;
      const key = JSON.stringify([ca, a.client, a.accepted, b.server, b.accepted]);
      let error = tally.verdicts.get(key);
      if (!tally.verdicts.has(key)) {
        error = await peerHandshake(ca, a, b);
        tally.verdicts.set(key, error);
        tally.handshakes++;
      }
      if (a.issuing.trim() !== b.issuing.trim()) tally.crossed++;
      if (error !== undefined) tally.failures.push(`${ca}: ${from.name} -> ${to.name}: ${error}`);
    }
  }
}

/**
 * The two nodes' views as they stood at one moment, or undefined when either cannot be read. The reads are calls made
 * one after another, and a rotation moves on meanwhile (under load one round of reads can span a phase or more): `from`
 * read at the start and `to` read after it were never held together if `from` moved in between (its accepted list
 * still [old] while `to` already serves a new-CA certificate, say). So `from` is read again after `to`: unchanged, it
 * held that view throughout, since a view never returns to an earlier one (lists widen then narrow, certificates are
 * only replaced by newer ones), so what `to` held when read (its root, then its leaves) met that view. Changed, the pair
 * is read again: `from` moves a few times per rotation, so this ends. A `from` that cannot be read again (killed) gives
 * no pair: nothing shows it still held what was read.
 */
export async function pairAtOneMoment(ca: PeerCA, from: SpecReader, to: SpecReader): Promise<[PeerView, PeerView] | undefined> {
  let a = await peerView(ca, from);
  for (;;) {
    const b = a && (await peerView(ca, to));
    if (!a || !b) return undefined;
    const again = await peerView(ca, from);
    if (again && sameView(a, again)) return [a, b];
    a = again;
  }
}

const samePem = (x: string, y: string) => x.trim() === y.trim();

function sameView(x: PeerView, y: PeerView): boolean {
  return (
    samePem(x.issuing, y.issuing) &&
    x.accepted.length === y.accepted.length &&
    x.accepted.every((p, i) => samePem(p, y.accepted[i])) &&
    samePem(x.client.crt, y.client.crt) &&
    samePem(x.server.crt, y.server.crt)
  );
}
