// What rotate-ca says: the plan of a dry run, a line per rotation phase passed, and the note on a secrets bundle left
// stale. Loaded with the command's action, never at start-up.
import { hasAcceptedList } from '../resources/ca-rotation.js';
import type { RotatableCA, RotationPhase } from '../resources/ca-rotation.js';
import { BUNDLE_FIELD } from './rotated-bundle.js';

export const LABEL: Record<RotatableCA, string> = { os: 'Talos API', kubernetes: 'Kubernetes API', etcd: 'etcd', aggregator: 'aggregator (front-proxy)' };
// The machine config has no accepted list for etcd and the aggregator: the overlap goes to each control plane's
// ExtraAcceptedCAs, which its root secrets trust besides the config's CA.
const FIELDS: Record<RotatableCA, [string, string]> = {
  os: ['machine.ca', 'machine.acceptedCAs'],
  kubernetes: ['cluster.ca', 'cluster.acceptedCAs'],
  etcd: ['cluster.etcd.ca', 'ExtraAcceptedCAs/etcd'],
  aggregator: ['cluster.aggregatorCA', 'ExtraAcceptedCAs/aggregator'],
};

/** What an etcd rotation that waits for the members asks of the operator. */
const ETCD_RESTART = 'restart each etcd member, one at a time: etcd reads its trusted CA files only at start-up';

/** What keeps an old talosconfig working through a Talos API CA rotation (CrossSignedCAs). */
const CROSS_SIGNED_NOTE = 'apid sends the new CA cross-signed by the old one, so old talosconfigs work until the old CA is dropped';

/** Where a CA's overlap is written: workers carry no etcd or aggregator CA. */
const WHERE: Record<RotatableCA, string> = {
  os: 'every node (control planes first, then workers)',
  kubernetes: 'every node (control planes first, then workers)',
  etcd: 'every control plane (workers hold no etcd CA)',
  aggregator: 'every control plane (workers hold no aggregator CA)',
};

export function staleBundleNote(kinds: readonly RotatableCA[]): string {
  const fields = kinds.map((k) => `${FIELDS[k][0]} -> certs.${BUNDLE_FIELD[k]}`).join(', ');
  return (
    `the secrets bundle (secrets.yaml) still holds the old ${kinds.map((k) => LABEL[k]).join(', ')} CA: it is now stale, and nodes made from it with ` +
    `gen config --with-secrets cannot join. Pass --with-secrets secrets.yaml to rotate-ca to keep it current; to refresh it by hand, copy ${fields} ` +
    'from a control plane\'s machine config (trustctl get mc v1alpha1 -o yaml)'
  );
}

export const STAGE: Record<Exclude<RotationPhase, 'Staged'>, (kind: RotatableCA) => string> = {
  NewCAAccepted: (k) => `> Added the new CA to ${FIELDS[k][1]} on ${WHERE[k]}${k === 'os' ? `; ${CROSS_SIGNED_NOTE}; verified with the new client certificate and the old server CA` : ''}`,
  NewCAIssuing: (k) => `> Made the new CA the issuing CA (${FIELDS[k][0]}), the old one still accepted`,
  LeavesReissued: (k) => `> Every certificate re-issued from the new CA${k === 'os' ? '; verified connectivity with the new PKI' : ''}`,
  OldCADropped: (k) => `> Removed the old CA from ${FIELDS[k][1]}${k === 'os' ? '; verified connectivity with the new PKI again' : ''}`,
  Done: (k) => `> ${LABEL[k]} CA rotation done`,
};

export function printPlan(out: (line: string) => void, kind: RotatableCA, controlPlanes: string[], workers: string[], endpoint: string, output: string, etcdEndpoints: string[]): void {
  const [ca, accepted] = FIELDS[kind];
  out(`> ${LABEL[kind]} CA rotation on control plane(s) ${controlPlanes.join(', ')}${workers.length ? `, worker(s) ${workers.join(', ')}` : ''}:`);
  out(`>   would generate a new ${kind} CA and start the rotation on ${endpoint}, whose rotation driver would:`);
  out('>   1. verify connectivity with the existing PKI');
  out(`>   2. add the new CA to ${accepted} on ${WHERE[kind]}${kind === 'os' ? `; ${CROSS_SIGNED_NOTE}` : ''}`);
  if (kind === 'os') out('>   3. verify connectivity with the new client certificate and the old server CA');
  // No etcd server or aggregated API server runs here to connect to: the check is what the node trusts and issues.
  else if (kind === 'etcd' && etcdEndpoints.length) out(`>   3. verify every control plane trusts both CAs, and wait until etcd at ${etcdEndpoints.join(', ')} accepts a new-CA client (${ETCD_RESTART})`);
  else out(`>   3. verify every ${hasAcceptedList(kind) ? 'node' : 'control plane'} trusts both CAs${kind === 'kubernetes' ? ' and answers the admin client certificate' : ' (no server of this CA runs here to connect to)'}`);
  out(`>   4. make the new CA issuing (${ca}), the old one still accepted`);
  out('>   5. wait until every certificate is re-issued from the new CA, and verify with the new PKI');
  out(`>   6. remove the old CA from ${accepted}, and verify again${kind === 'etcd' && etcdEndpoints.length ? ` (waiting until etcd refuses an old-CA client: ${ETCD_RESTART} again)` : ''}`);
  if (kind === 'etcd' && !etcdEndpoints.length) out(`>   note: without --etcd-endpoints nothing waits for the etcd members, which read their trusted CA files only at start-up: a member not restarted between steps 2 and 4 refuses the new certificates`);
  if (kind === 'os') out(`>   7. write the new talosconfig to ${JSON.stringify(output)}`);
}
