// Controllers look at the same PEM certificates on every reconcile (status, re-issue checks); parsing one costs ~50 us,
// so keep the parsed objects, bounded, keyed by the PEM text itself.
import { X509Certificate } from 'node:crypto';
import { memoryCaOf } from '../config/ca-entry.js';
import type { CaKeys } from '../config/ca-keys.js';
import { caFromPem, isIssuedBy } from '../pki/index.js';
import type { CertificateAuthority } from '../pki/index.js';
import { isPkcs11Uri } from '../pki/pkcs11/pkcs11-uri.js';

const LIMIT = 1024;

/** A cache of at most `limit` values (the oldest goes first); `compute` runs on a miss. */
export function boundedCache<V>(limit = LIMIT): (key: string, compute: () => V) => V {
  const cache = new Map<string, V>();
  return (key, compute) => {
    if (cache.has(key)) return cache.get(key) as V;
    const value = compute();
    if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
    cache.set(key, value);
    return value;
  };
}

export function boundedMemo<V>(compute: (key: string) => V, limit = LIMIT): (key: string) => V {
  const cached = boundedCache<V>(limit);
  return (key) => cached(key, () => compute(key));
}

export const parseCertificate = boundedMemo((pem) => new X509Certificate(pem));

const signatureChecks = boundedCache<boolean>(4096);

/**
 * Whether the CA certificate `caPem` signed `certPem` (isIssuedBy), remembered: the reissue policy and the status
 * controller ask it of the same pairs on every reconcile, and each answer is a signature verification. Keyed by the
 * two fingerprints (X509Certificate keeps them once computed), not the PEM text: 4096 pairs stay well under a megabyte.
 */
export function issuedByCached(certPem: string, caPem: string): boolean {
  const cert = parseCertificate(certPem);
  const ca = parseCertificate(caPem);
  return signatureChecks(`${cert.fingerprint256}|${ca.fingerprint256}`, () => isIssuedBy(cert, ca));
}

/** CAs as controllers read them from root secrets: the same PEM pair on every reconcile, parsed once. */
export const caFromPemCached = (crt: string, key: string): CertificateAuthority => authorities(`${crt}\u0000${key}`, () => caFromPem(crt, key));

const authorities = boundedCache<CertificateAuthority>(64);

/** CA keys in memory (PEM in the root secrets), parsed once; a pkcs11: URI key is refused with the flags to give. */
export const memoryCaKeys: CaKeys = {
  signingCA: (crt, key, field) => (isPkcs11Uri(key) ? memoryCaOf({ crt, key }, field) : caFromPemCached(crt, key)),
  // a PEM key lives only in the config and the store, where the rotation already removed it
  removeKey: () => undefined,
};
