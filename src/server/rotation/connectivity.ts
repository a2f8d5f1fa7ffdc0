// The check between two phases, talosctl's "verify connectivity": every node answers a call made with each client
// certificate that must work at that phase, and refuses the old one once the old CA is dropped.
import type { PemCertAndKey } from '../../config/index.js';
import { phaseIndex } from '../../resources/ca-rotation.js';
import type { CARotationSecretsSpec, CARotationSpec, RotationPhase } from '../../resources/ca-rotation.js';
import { paths } from '../apid/api-paths.js';
import { tlsPair } from '../apid/tls-material.js';
import { checkEtcdMembers } from './etcd-members-check.js';
import { callNode } from './node-client.js';
import type { NodeCredentials } from './node-client.js';

export const UNKNOWN_AUTHORITY = 'certificate signed by unknown authority';

export interface ConnectivityInput {
  rotation: CARotationSpec;
  /** The phase every node has just reached. */
  phase: RotationPhase;
  secrets: CARotationSecretsSpec;
  admin: NodeCredentials;
  mint: (ca: PemCertAndKey) => Promise<PemCertAndKey>;
}

/** Throws, naming the node and the certificate, when any node does not answer as the phase requires. */
export async function checkConnectivity(input: ConnectivityInput): Promise<void> {
  const { rotation, phase, secrets, admin } = input;
  const at = phaseIndex(phase);
  const probes: { what: string; creds: NodeCredentials; accepted: boolean }[] = [];
  if (rotation.ca === 'os') {
    const withCert = (pair: PemCertAndKey, ca: string): NodeCredentials => ({ ca, ...tlsPair(pair.crt, pair.key, 'rotation check key') });
    const oldCert = await input.mint(secrets.oldCA);
    const newCert = await input.mint(secrets.newCA);
    probes.push({ what: 'the old client certificate', creds: withCert(oldCert, admin.ca), accepted: at < phaseIndex('OldCADropped') });
    // An old talosconfig trusts only the old CA for the server: a new-CA server certificate must come with the
    // cross-signed CA (CrossSignedCAs) until the old CA is dropped. Rotations started before it existed have none.
    if (at < phaseIndex('OldCADropped') && secrets.crossSigned)
      probes.push({ what: 'the old talosconfig (old client certificate, old CA only)', creds: withCert(oldCert, secrets.oldCA.crt), accepted: true });
    if (at >= phaseIndex('NewCAAccepted')) probes.push({ what: 'the new client certificate', creds: withCert(newCert, admin.ca), accepted: true });
    if (at >= phaseIndex('LeavesReissued')) probes.push({ what: 'the new PKI (new client certificate, new CA only)', creds: withCert(newCert, secrets.newCA.crt), accepted: true });
  } else {
    probes.push({ what: 'the admin client certificate', creds: admin, accepted: true });
  }
  for (const node of rotation.nodes) {
    for (const probe of probes) {
      const answer = await callNode(node.address, probe.creds, 'GET', paths.version);
      const ok = answer.error === undefined;
      if (probe.accepted && !ok) throw new Error(`connectivity check after ${phase}: ${node.address} refused ${probe.what}: ${answer.error}`);
      if (!probe.accepted && (ok || !answer.error?.includes(UNKNOWN_AUTHORITY)))
        throw new Error(`connectivity check after ${phase}: ${node.address} should refuse ${probe.what} with "${UNKNOWN_AUTHORITY}", got ${ok ? 'an answer' : answer.error}`);
    }
  }
  await checkEtcdMembers(input);
}
