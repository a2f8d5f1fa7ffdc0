// trustd signs nothing for a node whose certificate was revoked (a compromised worker) until the revocation is lifted.
// A CSR carries no certificate, so the node is recognised by what the revoked certificate was issued for: its public
// key (a reused key) or any of its names. The refusal names the rule that fired and the way out.
import { spkiOf } from '../../pki/index.js';
import type { ParsedCsr } from '../../pki/index.js';
import type { RevocationSpec } from '../../resources/revocations.js';
import { publicKeyDigest, revokedText } from '../revocation/index.js';
import type { RevokedSet } from '../revocation/index.js';
import { TrustdError } from './trustd-error.js';

export function refuseRevokedNode(csr: ParsedCsr, revoked: RevokedSet): void {
  if (revoked.size === 0) return;
  const byKey = revoked.forPublicKey(publicKeyDigest(spkiOf(csr.publicKey)));
  if (byKey) throw refusal('revoked key', 'the CSR\'s public key is the key of a revoked certificate', byKey);
  const names = [...csr.ipAddresses, ...csr.dnsNames];
  const byName = revoked.forNames(names);
  if (byName) {
    const shared = names.filter((n) => byName.names.some((m) => m.toLowerCase() === n.toLowerCase()));
    throw refusal('revoked node names', `the CSR asks for ${shared.join(', ')}, names of a revoked node certificate`, byName);
  }
}

/** 403 naming the rule, what matched the revocation `r`, and how an admin lifts it; `prefix` says which request it answers. */
export function refusal(rule: string, what: string, r: RevocationSpec, prefix = ''): TrustdError {
  return new TrustdError(403, `${prefix}rule "${rule}": ${what}: ${revokedText(r)}; trustd signs nothing for it until an admin lifts it with trustctl revoke --undo --serial ${r.serial}`);
}
