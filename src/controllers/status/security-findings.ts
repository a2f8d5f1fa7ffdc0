// The checks SecurityStatus runs over the certificate statuses: each a small pure function returning findings.
import type { CertificateStatusSpec } from '../../resources/certificate-status.js';
import type { Finding } from '../../resources/security-status.js';
import { expiringSoonFrom } from './certificate-state.js';

export interface Observed {
  id: string;
  spec: CertificateStatusSpec;
}

type FindingCheck = (all: readonly Observed[], now: Date) => Finding[];

const ROTATE_FLAG: Record<string, string> = { os: '--talos', kubernetes: '--kubernetes', etcd: '--etcd', aggregator: '--aggregator' };

const caExpiry: FindingCheck = (all, now) =>
  all
    .filter((o) => o.spec.kind === 'ca' && o.spec.notAfter && o.spec.notBefore)
    .flatMap((o): Finding[] => {
      const notAfter = new Date(o.spec.notAfter!);
      const fix = `rotate it: trustctl rotate-ca ${ROTATE_FLAG[o.spec.issuerCA]}`;
      if (notAfter <= now) return [{ severity: 'critical', code: 'CAExpired', subject: o.id, message: `the ${o.spec.issuerCA} CA expired at ${o.spec.notAfter}; ${fix}` }];
      if (expiringSoonFrom(new Date(o.spec.notBefore!), notAfter) <= now) {
        return [{ severity: 'warning', code: 'CAExpiringSoon', subject: o.id, message: `the ${o.spec.issuerCA} CA expires at ${o.spec.notAfter}; ${fix}` }];
      }
      return [];
    });

/** A leaf's NotAfter is clamped to its CA's: when the next renewal cannot give it a full life, the CA is the limit. */
const caBeforeLeafRenewal: FindingCheck = (all, now) => {
  const out: Finding[] = [];
  for (const ca of all.filter((o) => o.spec.kind === 'ca' && o.spec.notAfter && new Date(o.spec.notAfter) > now)) {
    const caEnd = new Date(ca.spec.notAfter!).getTime();
    const blocked = all.filter(
      (o) => o.spec.kind === 'leaf' && o.spec.issuerCA === ca.spec.issuerCA && o.spec.renewalTime && o.spec.notAfter && new Date(o.spec.notAfter).getTime() >= caEnd,
    );
    if (blocked.length) {
      out.push({
        severity: 'warning',
        code: 'CAExpiresBeforeLeafRenewal',
        subject: ca.id,
        message: `the ${ca.spec.issuerCA} CA expires at ${ca.spec.notAfter}, which already cuts short ${blocked.map((b) => b.id).join(', ')}; rotate it: trustctl rotate-ca ${ROTATE_FLAG[ca.spec.issuerCA]}`,
      });
    }
  }
  return out;
};

const weakRsa: FindingCheck = (all) =>
  all
    .filter((o) => o.spec.keyAlgorithm === 'RSA' && o.spec.keySize < 2048)
    .map((o): Finding => ({ severity: 'critical', code: 'WeakKey', subject: o.id, message: `RSA key of ${o.spec.keySize} bits; use at least 2048 (re-issue, or rotate the CA)` }));

const notChaining: FindingCheck = (all) =>
  all
    .filter((o) => o.spec.kind === 'leaf' && o.spec.state !== 'Pending' && !o.spec.chainsToAcceptedCA)
    .map((o): Finding => ({ severity: 'critical', code: 'UntrustedChain', subject: o.id, message: `does not chain to an accepted ${o.spec.issuerCA} CA; it will be re-issued (IncorrectIssuer)` }));

const clockSkew: FindingCheck = (all, now) =>
  all
    .filter((o) => o.spec.state === 'NotYetValid' || (o.spec.lastRenewal && new Date(o.spec.lastRenewal) > now))
    .map((o): Finding => ({
      severity: 'warning',
      code: 'ClockSkew',
      subject: o.id,
      message: `clock skew suspected: not valid before ${o.spec.notBefore}, issued ${o.spec.lastRenewal ?? '?'}, but the clock reads ${now.toISOString()}; check time sync`,
    }));

const badStates: FindingCheck = (all) =>
  all
    .filter((o) => o.spec.kind === 'leaf' && (o.spec.state === 'Expired' || o.spec.state === 'Invalid'))
    .map((o): Finding => ({ severity: 'critical', code: `Certificate${o.spec.state}`, subject: o.id, message: o.spec.message }));

const failingIssuers: FindingCheck = (all) =>
  all
    .filter((o) => o.spec.failures > 0)
    .map((o): Finding => ({
      severity: 'warning',
      code: 'IssuanceFailing',
      subject: o.id,
      message: `issuance failed ${o.spec.failures} time(s): ${o.spec.lastFailure ?? 'unknown error'}${o.spec.nextRetry ? `; next retry ${o.spec.nextRetry}` : ''}`,
    }));

const CHECKS: readonly FindingCheck[] = [caExpiry, caBeforeLeafRenewal, weakRsa, notChaining, clockSkew, badStates, failingIssuers];

export function securityFindings(all: readonly Observed[], now: Date): Finding[] {
  return CHECKS.flatMap((c) => c(all, now));
}
