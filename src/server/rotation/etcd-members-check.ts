// The part of the check between two phases of an etcd CA rotation that only the etcd members can answer. The control
// planes' own state says the new CA is trusted as soon as their config says so, but etcd 3.4 reads --trusted-ca-file and
// --peer-trusted-ca-file only at start-up (its certificate and key it re-reads on each connection): until each member
// has restarted, it refuses the certificates a control plane issues from the new CA. So, when the rotation names the
// members, a phase counts as reached only once every member shows it: the next phase, which would hand out new-CA
// certificates or call the old CA gone, waits, and the rotation's lastError tells the operator what to do.
import { X509Certificate } from 'node:crypto';
import type { PemCertAndKey } from '../../config/index.js';
import { isIssuedBy } from '../../pki/index.js';
import { phaseIndex } from '../../resources/ca-rotation.js';
import type { CARotationSecretsSpec, CARotationSpec, RotationPhase } from '../../resources/ca-rotation.js';
import { tlsPair } from '../apid/tls-material.js';
import { etcdHandshake } from './etcd-handshake.js';

const RESTART =
  'etcd reads its trusted CA files only at start-up: restart the etcd members one at a time (move the leader away first: etcdctl move-leader), each once its node has written the new bundle; the rotation goes on by itself once they have';

export interface EtcdMembersInput {
  rotation: CARotationSpec;
  /** The phase every control plane has just reached. */
  phase: RotationPhase;
  secrets: CARotationSecretsSpec;
  /** A client certificate from `ca`. */
  mint: (ca: PemCertAndKey) => Promise<PemCertAndKey>;
}

/**
 * Throws, naming the member and what to do, unless every etcd member the rotation names trusts a new-CA client (from
 * NewCAAccepted), serves a new-CA certificate (from LeavesReissued), and trusts an old-CA client until OldCADropped
 * and refuses one from then on.
 */
export async function checkEtcdMembers(input: EtcdMembersInput): Promise<void> {
  const { rotation, phase, secrets } = input;
  const endpoints = rotation.etcdEndpoints ?? [];
  const at = phaseIndex(phase);
  if (rotation.ca !== 'etcd' || endpoints.length === 0 || at < phaseIndex('NewCAAccepted')) return;
  const client = async (ca: PemCertAndKey) => {
    const pair = await input.mint(ca);
    return tlsPair(pair.crt, pair.key, 'rotation check key');
  };
  const [newClient, oldClient] = [await client(secrets.newCA), await client(secrets.oldCA)];
  const dropped = at >= phaseIndex('OldCADropped');
  // what the members may serve: both CAs until the old one is dropped (a member restarted since serves the new one)
  const trusted = dropped ? [secrets.newCA.crt] : [secrets.oldCA.crt, secrets.newCA.crt];
  const newCA = new X509Certificate(secrets.newCA.crt);
  for (const endpoint of endpoints) {
    const where = `connectivity check after ${phase}: etcd at ${endpoint}`;
    const fresh = await etcdHandshake(endpoint, newClient, trusted);
    if (!fresh.served) throw new Error(`${where} ${fresh.refused ? `refuses a client certificate of the new etcd CA (${fresh.error}); ${RESTART}` : `could not be checked: ${fresh.error}`}`);
    if (at >= phaseIndex('LeavesReissued') && !isIssuedBy(fresh.served, newCA))
      throw new Error(`${where} serves a certificate the new etcd CA did not sign: write its node's re-issued etcd certificates where etcd reads them (it takes them at its next connection)`);
    const old = await etcdHandshake(endpoint, oldClient, trusted);
    if (!dropped && !old.served) throw new Error(`${where} ${old.refused ? `refuses a client certificate of the old etcd CA before the old CA is dropped (${old.error})` : `could not be checked: ${old.error}`}`);
    if (dropped && !old.refused) throw new Error(`${where} ${old.served ? `still accepts a client certificate of the old etcd CA; ${RESTART}` : `could not be checked: ${old.error}`}`);
  }
}
