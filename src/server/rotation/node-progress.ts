// Whether a node has really reached a rotation phase, judged from what it reports over apid (its root secrets and
// issued certificates, which its controllers derive from the config the driver wrote), not from the write itself.
import { X509Certificate } from 'node:crypto';
import { isIssuedBy } from '../../pki/index.js';
import { phaseIndex } from '../../resources/ca-rotation.js';
import type { RotatableCA, RotationPhase } from '../../resources/ca-rotation.js';
import type { IssuedCertificatesSpec } from '../../resources/issued-certificates.js';
import { paths } from '../apid/api-paths.js';
import { callNode } from './node-client.js';
import type { NodeCredentials } from './node-client.js';

interface CAView {
  issuing: string;
  accepted: string[];
}

const same = (a: string, b: string) => a.trim() === b.trim();
const includes = (list: readonly string[], pem: string) => list.some((p) => same(p, pem));

/** undefined when the node has reached `phase` for `kind`; otherwise what it is still waiting for. */
export async function nodeLag(address: string, creds: NodeCredentials, kind: RotatableCA, phase: RotationPhase, oldCrt: string, newCrt: string): Promise<string | undefined> {
  const root = await rootOf(address, creds, kind);
  // A worker derives no Kubernetes or etcd root secrets: its config is all there is to check, and the driver just wrote it.
  if (!root) return kind === 'os' ? 'no OSRootSecrets yet' : undefined;
  const at = phaseIndex(phase);
  if (at >= phaseIndex('NewCAAccepted') && !includes([root.issuing, ...root.accepted], newCrt)) return 'the new CA is not accepted yet';
  if (at >= phaseIndex('NewCAIssuing') && !same(root.issuing, newCrt)) return 'the new CA is not issuing yet';
  if (at >= phaseIndex('NewCAIssuing') && at < phaseIndex('OldCADropped') && !includes(root.accepted, oldCrt)) return 'the old CA is no longer accepted';
  if (at >= phaseIndex('LeavesReissued')) {
    const stale = await staleLeaves(address, creds, kind, newCrt);
    if (stale.length > 0) return `not yet re-issued from the new CA: ${stale.join(', ')}`;
  }
  if (at >= phaseIndex('OldCADropped') && includes(root.accepted, oldCrt)) return 'the old CA is still accepted';
  return undefined;
}

const ROOT: Record<RotatableCA, [string, string]> = {
  os: ['OSRootSecrets', 'os'],
  kubernetes: ['KubernetesRootSecrets', 'k8s'],
  etcd: ['EtcdRootSecrets', 'etcd'],
  aggregator: ['KubernetesRootSecrets', 'k8s'],
};

/**
 * The issuing and accepted CAs the node derived. For etcd and aggregator this is all the "connectivity" there is to
 * judge: no etcd server or aggregated API server runs here, so reaching a phase means the root secrets trust what the
 * phase asks and (from LeavesReissued) every leaf of that CA chains to the new one.
 */
async function rootOf(address: string, creds: NodeCredentials, kind: RotatableCA): Promise<CAView | undefined> {
  const body = await getSpec(address, creds, ...ROOT[kind]);
  if (!body) return undefined;
  if (kind === 'os') {
    const spec = body as { issuingCA: { crt: string }; acceptedCAs: string[] };
    return { issuing: spec.issuingCA.crt, accepted: spec.acceptedCAs };
  }
  if (kind === 'aggregator') {
    const spec = body as { aggregatorCA: { crt: string }; aggregatorAcceptedCAs: string[] };
    return { issuing: spec.aggregatorCA.crt, accepted: spec.aggregatorAcceptedCAs };
  }
  const spec = body as { ca: { crt: string }; acceptedCAs: string[] };
  return { issuing: spec.ca.crt, accepted: spec.acceptedCAs };
}

const LEAF_SETS: Record<RotatableCA, [string, string][]> = {
  os: [
    ['ApiCertificates', 'api'],
    ['TrustdCertificates', 'trustd'],
  ],
  kubernetes: [['KubernetesSecrets', 'k8s']],
  etcd: [['EtcdSecrets', 'etcd']],
  aggregator: [['KubernetesSecrets', 'k8s']],
};

/**
 * Names of the node's leaves from `kind`'s CA that the new CA did not sign, and of leaf sets not issued at all: a node
 * with a Kubernetes, etcd or aggregator root (a control plane) must hold its leaves before they count as re-issued (an
 * expired old CA may have left none, and the controller may still be backing off from that).
 */
async function staleLeaves(address: string, creds: NodeCredentials, kind: RotatableCA, newCrt: string): Promise<string[]> {
  const sets = LEAF_SETS[kind];
  const ca = new X509Certificate(newCrt);
  const stale: string[] = [];
  for (const [type, id] of sets) {
    const spec = (await getSpec(address, creds, type, id)) as IssuedCertificatesSpec | undefined;
    // OS leaf sets differ by role (a worker holds no TrustdCertificates); ApiCertificates is checked just below.
    const ofKind = Object.entries(spec?.certificates ?? {}).filter(([, cert]) => cert.issuer === kind);
    if (kind !== 'os' && ofKind.length === 0) stale.push(`${type}/${id} (no ${kind} certificate issued yet${spec?.pending ? `: ${spec.pending}` : ''})`);
    if (type === 'ApiCertificates' && spec && !spec.certificates.server) stale.push(`${type}/${id} (${spec.pending ?? 'no server certificate'})`);
    for (const [name, cert] of ofKind) if (!isIssuedBy(new X509Certificate(cert.crt), ca)) stale.push(`${type}/${id} ${name}`);
  }
  return stale;
}

async function getSpec(address: string, creds: NodeCredentials, type: string, id: string): Promise<unknown> {
  const answer = await callNode(address, creds, 'GET', paths.resources(type, id));
  if (answer.status === 404) return undefined;
  if (answer.error !== undefined) throw new Error(`${address}: reading ${type}/${id}: ${answer.error}`);
  return (answer.body as { spec?: unknown }).spec;
}
