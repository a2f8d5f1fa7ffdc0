// Controllers look at the same PEM certificates on every reconcile (status, re-issue checks); parsing one costs ~50 us,
// so keep the parsed objects, bounded, keyed by the PEM text itself.
import { X509Certificate } from 'node:crypto';
import { memoryCaOf } from '../config/ca-entry.js';
import type { CaKeys } from '../config/ca-keys.js';
import { caFromPem, isIssuedBy } from '../pki/index.js';
import type { CertificateAuthority } from '../pki/index.js';
import { isPkcs11Uri } from '../pki/pkcs11/pkcs11-uri.js';

const LIMIT = 1024;

export function boundedMemo<V>(compute: (key: string) => V, limit = LIMIT): (key: string) => V {
  const cache = new Map<string, V>();
  return (key) => {
    if (cache.has(key)) return cache.get(key) as V;
    const value = compute(key);
    if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
    cache.set(key, value);
    return value;
  };
}

export const parseCertificate = boundedMemo((pem) => new X509Certificate(pem));

const signatureChecks = boundedMemo((pair: string) => {
  const at = pair.indexOf('\u0000');
  return isIssuedBy(parseCertificate(pair.slice(0, at)), parseCertificate(pair.slice(at + 1)));
}, 4096);

/**
 * Whether the CA certificate `caPem` signed `certPem` (isIssuedBy), remembered: the reissue policy and the status
 * controller ask it of the same pairs on every reconcile, and each answer is a signature verification.
 */
export const issuedByCached = (certPem: string, caPem: string): boolean => signatureChecks(`${certPem}\u0000${caPem}`);

/** CAs as controllers read them from root secrets: the same PEM pair on every reconcile, parsed once. */
export const caFromPemCached = (crt: string, key: string): CertificateAuthority => authorities(`${crt}\u0000${key}`);

const authorities = boundedMemo((pair) => {
  const at = pair.indexOf('\u0000');
  return caFromPem(pair.slice(0, at), pair.slice(at + 1));
}, 64);

/** CA keys in memory (PEM in the root secrets), parsed once; a pkcs11: URI key is refused with the flags to give. */
export const memoryCaKeys: CaKeys = {
  signingCA: (crt, key, field) => (isPkcs11Uri(key) ? memoryCaOf({ crt, key }, field) : caFromPemCached(crt, key)),
  // a PEM key lives only in the config and the store, where the rotation already removed it
  removeKey: () => undefined,
};
