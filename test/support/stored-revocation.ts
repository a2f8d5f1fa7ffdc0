// A revocation of an OS CA certificate written straight into a node's store (what `trustctl revoke` records), for
// tests of what the node does with it (its CRLs).
import { parseCertificatePem } from '../../src/pki/index.js';
import { Revocations, normalSerial, revocationId } from '../../src/resources/index.js';
import type { RevocationSpec } from '../../src/resources/index.js';
import type { State } from '../../src/runtime/state.js';

export async function storeRevocation(state: State, crt: string, reason: string, at: Date): Promise<RevocationSpec> {
  const cert = parseCertificatePem(crt);
  const spec: RevocationSpec = {
    ca: 'os',
    serial: normalSerial(cert.serialNumber),
    subject: cert.subject,
    fingerprint: cert.fingerprint256,
    names: [],
    publicKey: '',
    notAfter: new Date(cert.validTo).toISOString(),
    reason,
    reasonCode: 'keyCompromise',
    revokedAt: at.toISOString(),
    revokedBy: 'test',
  };
  await state.create({ metadata: { namespace: Revocations.namespace, type: Revocations.type, id: revocationId('os', spec.serial) }, spec });
  return spec;
}
