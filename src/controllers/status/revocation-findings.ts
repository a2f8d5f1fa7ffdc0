// What SecurityStatus says about revocations: a certificate this node still uses although it is revoked (peers and
// clients refuse it, so whatever relies on it fails), and a CA that cannot sign a CRL OpenSSL accepts.
import { PRESENTED_AT, PRESENTED_FROM, normalSerial, revocationId } from '../../resources/revocations.js';
import type { RevocationSpec } from '../../resources/revocations.js';
import type { Resource } from '../../runtime/resource.js';
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

/** A revoked certificate someone still presents to this node's apid (whoever holds it has not switched yet). */
export function presentedFindings(revocations: readonly Resource<RevocationSpec>[], now: Date): Finding[] {
  return revocations
    .filter((r) => r.metadata.annotations[PRESENTED_AT] && Date.parse(r.spec.notAfter) > now.getTime())
    .map((r) => ({
      severity: 'warning',
      code: 'RevokedCertificatePresented',
      subject: `Revocations/${r.metadata.id}`,
      message: `the revoked ${r.spec.ca} certificate serial ${r.spec.serial}${r.spec.subject ? ` ("${r.spec.subject}")` : ''} was presented to apid at ${r.metadata.annotations[PRESENTED_AT]} from ${r.metadata.annotations[PRESENTED_FROM] ?? 'an unknown address'} and refused: whoever uses it needs a new one (trustctl config new)`,
    }));
}
