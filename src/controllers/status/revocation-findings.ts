// What SecurityStatus says about revocations: a certificate this node still uses although it is revoked (peers and
// clients refuse it, so whatever relies on it fails), and a CA that cannot sign a CRL OpenSSL accepts.
import { normalSerial, revocationId } from '../../resources/revocations.js';
import type { RevocationSpec } from '../../resources/revocations.js';
import type { Finding } from '../../resources/security-status.js';
import type { Observed } from './security-findings.js';

export function revocationFindings(statuses: readonly Observed[], revocations: ReadonlyMap<string, RevocationSpec>, now: Date): Finding[] {
  return statuses
    .filter((o) => o.spec.kind === 'leaf' && (!o.spec.notAfter || Date.parse(o.spec.notAfter) > now.getTime()))
    .flatMap((o): Finding[] => {
      const r = revocations.get(revocationId(o.spec.issuerCA, normalSerial(o.spec.serial)));
      if (!r) return [];
      const renewal = o.spec.renewalTime ? `; it is replaced at its renewal (${o.spec.renewalTime})` : '';
      return [
        {
          severity: 'critical',
          code: 'RevokedCertificateInUse',
          subject: o.id,
          message: `this node still uses ${o.spec.source.type}/${o.spec.source.id} ${o.spec.source.name} (serial ${r.serial}), revoked at ${r.revokedAt} by ${r.revokedBy}: ${JSON.stringify(r.reason)}; peers refuse it${renewal}, or lift the revocation if it was a mistake: trustctl revoke --undo --ca ${r.ca} --serial ${r.serial}`,
        },
      ];
    });
}
