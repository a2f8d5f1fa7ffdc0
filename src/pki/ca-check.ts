// Whether a certificate can serve as a CA, checked before it is stored: a CA that cannot sign, has run out, or has a
// weak or foreign key would otherwise be accepted and make every controller that issues from it fail for ever.
import type { KeyObject, X509Certificate } from 'node:crypto';
import { structureOf } from './certificate-structure.js';
import { PkiError } from './errors.js';
import { algorithmOf } from './keys.js';

/** RSA moduli below this are refused (NIST SP 800-131A); the EC curves are limited by algorithmOf. */
export const MIN_RSA_BITS = 2048;

const STRONG_KEYS = `use RSA ${MIN_RSA_BITS} bits or more, ECDSA P-256/P-384/P-521 or Ed25519`;

/**
 * What stops `cert` from being a CA (the time-independent part): CA:TRUE, keyCertSign when keyUsage is present
 * (RFC 5280 §4.2.1.3; an absent keyUsage allows every use) and key strength. Empty when it is usable.
 */
export function caShapeProblems(cert: X509Certificate): string[] {
  const problems: string[] = [];
  const { extensions } = structureOf(cert);
  if (extensions.isCA !== true) problems.push('is not a CA (BasicConstraints CA:TRUE is missing); give a CA certificate, not a leaf');
  else if (extensions.keyUsage && !extensions.keyUsage.includes('keyCertSign'))
    problems.push('is a CA whose keyUsage lacks keyCertSign, so nothing it signs verifies; re-create it with keyUsage keyCertSign');
  const weak = weakKeyProblem(cert.publicKey);
  if (weak) problems.push(weak);
  return problems;
}

/** Why `key` is too weak to sign certificates, or undefined. */
export function weakKeyProblem(key: KeyObject): string | undefined {
  let algorithm;
  try {
    algorithm = algorithmOf(key, 'the key');
  } catch (err) {
    if (err instanceof PkiError) return `${err.message.replace(/; use .*$/, '')}; ${STRONG_KEYS}`;
    throw err;
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (algorithm === 'rsa' && bits < MIN_RSA_BITS) return `has an RSA key of ${bits} bits, too weak to sign with; ${STRONG_KEYS}`;
  return undefined;
}

/** Why `cert` cannot sign at `now`: expired, or not valid yet (tolerating `skewMs` of a clock behind the maker's). */
export function caValidityProblem(cert: X509Certificate, now: Date, skewMs = 0): string | undefined {
  const { notBefore, notAfter } = structureOf(cert);
  if (notAfter.getTime() <= now.getTime()) return `expired at ${notAfter.toISOString()}; give a CA that is valid now (or rotate it: trustctl rotate-ca)`;
  if (notBefore.getTime() > now.getTime() + skewMs)
    return `is not valid until ${notBefore.toISOString()}; check the clock, or give a CA that is valid now`;
  return undefined;
}
