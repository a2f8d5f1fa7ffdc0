// The checks SecurityStatus runs over the certificate statuses: each a small pure function returning findings.
import type { CertificateStatusSpec } from '../../resources/certificate-status.js';
import { rotateCaCommand } from '../../resources/common.js';
import type { Finding } from '../../resources/security-status.js';
import { expiringSoonFrom } from './certificate-state.js';

export interface Observed {
  id: string;
  spec: CertificateStatusSpec;
}

type FindingCheck = (all: readonly Observed[], now: Date) => Finding[];


const caExpiry: FindingCheck = (all, now) =>
  all
    .filter((o) => o.spec.kind === 'ca' && o.spec.notAfter && o.spec.notBefore)
    .flatMap((o): Finding[] => {
      const notAfter = new Date(o.spec.notAfter!);
      const fix = `rotate it: ${rotateCaCommand(o.spec.issuerCA)}`;
      if (notAfter <= now) return [{ severity: 'critical', code: 'CAExpired', subject: o.id, message: `the ${o.spec.issuerCA} CA expired at ${o.spec.notAfter}; ${fix}` }];
      if (expiringSoonFrom(new Date(o.spec.notBefore!), notAfter) <= now) {
        return [{ severity: 'warning', code: 'CAExpiringSoon', subject: o.id, message: `the ${o.spec.issuerCA} CA expires at ${o.spec.notAfter}; ${fix}` }];
      }
      return [];
    });

/** A leaf due for renewal after its CA is gone cannot be renewed: the CA must be rotated before then. */
const caBeforeLeafRenewal: FindingCheck = (all) =>
  all
    .filter((o) => o.spec.kind === 'leaf' && o.spec.renewalTime)
    .flatMap((leaf): Finding[] => {
      const ca = all.find((c) => c.spec.kind === 'ca' && c.spec.issuerCA === leaf.spec.issuerCA && c.spec.notAfter);
      if (!ca || new Date(ca.spec.notAfter!) >= new Date(leaf.spec.renewalTime!)) return [];
      return [
        {
          severity: 'warning',
          code: 'CAExpiresBeforeLeafRenewal',
          subject: leaf.id,
          message: `the ${ca.spec.issuerCA} CA expires at ${ca.spec.notAfter}, before this certificate's renewal at ${leaf.spec.renewalTime}; rotate it: ${rotateCaCommand(ca.spec.issuerCA)}`,
        },
      ];
    });

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

/** A CA the status controller found unable to sign (not a CA, no keyCertSign, weak key): nothing it issues verifies. */
const unusableCAs: FindingCheck = (all) =>
  all
    .filter((o) => o.spec.kind === 'ca' && o.spec.state === 'Invalid')
    .map((o): Finding => ({ severity: 'critical', code: 'CAInvalid', subject: o.id, message: o.spec.message }));

const failingIssuers: FindingCheck = (all) =>
  all
    .filter((o) => o.spec.kind === 'leaf' && o.spec.failures > 0)
    .map((o): Finding => ({
      severity: 'warning',
      code: 'IssuanceFailing',
      subject: o.id,
      message: `issuance failed ${o.spec.failures} time(s): ${o.spec.lastFailure ?? 'unknown error'}${o.spec.nextRetry ? `; next retry ${o.spec.nextRetry}` : ''}`,
    }));

/** A CA whose key is in a PKCS#11 token that cannot sign now: nothing it should issue or renew gets done. */
const caKeyUnavailable: FindingCheck = (all) =>
  all
    .filter((o) => o.spec.kind === 'ca' && o.spec.keyLocation === 'hsm' && o.spec.failures > 0)
    .map((o): Finding => ({
      severity: 'critical',
      code: 'CAKeyUnavailable',
      subject: o.id,
      message: `the ${o.spec.issuerCA} CA cannot sign: ${o.spec.lastFailure ?? 'unknown error'}${o.spec.nextRetry ? `; next retry ${o.spec.nextRetry}` : ''}`,
    }));

/** CA keys in plaintext config: said once per node, with the feature that keeps them out of it. */
const caKeysInConfig: FindingCheck = (all) => {
  const names = all.filter((o) => o.spec.kind === 'ca' && o.spec.keyLocation === 'store').map((o) => o.spec.issuerCA);
  if (names.length === 0) return [];
  return [
    {
      severity: 'info',
      code: 'CAKeysInConfig',
      subject: 'machineconfig',
      message: `the ${names.join(', ')} CA key(s) are held in plaintext in the machine config (and sealed in the store); keep CA keys in a PKCS#11 token instead: trustctl gen secrets --pkcs11-module LIB --pkcs11-token LABEL --pkcs11-pin-file FILE (README: "CA keys in a PKCS#11 token")`,
    },
  ];
};

const CHECKS: readonly FindingCheck[] = [caExpiry, caBeforeLeafRenewal, weakRsa, notChaining, clockSkew, badStates, unusableCAs, caKeyUnavailable, failingIssuers, caKeysInConfig];

export function securityFindings(all: readonly Observed[], now: Date): Finding[] {
  return CHECKS.flatMap((c) => c(all, now));
}
