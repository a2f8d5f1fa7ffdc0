// Signature algorithms for X.509 and PKCS#10: which AlgorithmIdentifier a key signs with, signing and verifying.
import { createHash, createPublicKey, sign, verify } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { nullValue, oid, sequence } from './der.js';
import { children, readBitString, readDer, readOid } from './der-reader.js';
import { algorithmOf } from './keys.js';
import { OID } from './oids.js';

interface SignatureScheme {
  algorithmIdentifier: Buffer;
  /** Digest for node:crypto's sign/verify; null for Ed25519 (it hashes internally). */
  digest: string | null;
}

const CURVE_SCHEMES: Record<string, SignatureScheme> = {
  prime256v1: { algorithmIdentifier: sequence(oid(OID.ecdsaWithSha256)), digest: 'sha256' },
  secp384r1: { algorithmIdentifier: sequence(oid(OID.ecdsaWithSha384)), digest: 'sha384' },
  secp521r1: { algorithmIdentifier: sequence(oid(OID.ecdsaWithSha512)), digest: 'sha512' },
};
const ED25519_SCHEME: SignatureScheme = { algorithmIdentifier: sequence(oid(OID.ed25519)), digest: null };
const RSA_SCHEME: SignatureScheme = { algorithmIdentifier: sequence(oid(OID.sha256WithRsa), nullValue()), digest: 'sha256' };

const schemeCache = new WeakMap<KeyObject, SignatureScheme>();

/** ecdsa-with-SHA256 (P-256; SHA-384/512 for larger curves), Ed25519, or sha256WithRSAEncryption. */
export function schemeFor(privateKey: KeyObject): SignatureScheme {
  let scheme = schemeCache.get(privateKey);
  if (!scheme) {
    scheme = pickScheme(privateKey);
    schemeCache.set(privateKey, scheme);
  }
  return scheme;
}

function pickScheme(privateKey: KeyObject): SignatureScheme {
  const algorithm = algorithmOf(privateKey);
  if (algorithm === 'ed25519') return ED25519_SCHEME;
  if (algorithm === 'rsa') return RSA_SCHEME;
  return CURVE_SCHEMES[privateKey.asymmetricKeyDetails?.namedCurve ?? ''];
}

export function signWith(scheme: SignatureScheme, privateKey: KeyObject, data: Buffer): Buffer {
  return sign(scheme.digest, data, privateKey);
}

/** Digests by signature OID for verifying what others signed; SHA-1 and RSA-PSS are not accepted. */
const VERIFY_DIGESTS: Record<string, string | null> = {
  [OID.ecdsaWithSha256]: 'sha256',
  [OID.ecdsaWithSha384]: 'sha384',
  [OID.ecdsaWithSha512]: 'sha512',
  [OID.sha256WithRsa]: 'sha256',
  [OID.sha384WithRsa]: 'sha384',
  [OID.sha512WithRsa]: 'sha512',
  [OID.ed25519]: null,
};

export function isSupportedSignatureOid(signatureOid: string): boolean {
  return signatureOid in VERIFY_DIGESTS;
}

export function verifyWith(signatureOid: string, publicKey: KeyObject, data: Buffer, signature: Buffer): boolean {
  const digest = VERIFY_DIGESTS[signatureOid];
  if (digest === undefined) return false;
  try {
    return verify(digest, data, publicKey, signature);
  } catch {
    return false;
  }
}

const spkiCache = new WeakMap<KeyObject, Buffer>();

const P256_CURVE = '1.2.840.10045.3.1.7';

/**
 * Imports a SubjectPublicKeyInfo, remembering its DER. OpenSSL 3 imports a P-256 point given as JWK about twice as fast
 * as the same key as DER, and trustd imports one per CSR, so P-256 takes that road; everything else goes as DER.
 */
export function importSpki(der: Buffer): KeyObject {
  const key = p256Jwk(der);
  const publicKey = key ? createPublicKey({ key, format: 'jwk' }) : createPublicKey({ key: der, format: 'der', type: 'spki' });
  rememberSpki(publicKey, der);
  return publicKey;
}

function p256Jwk(der: Buffer): JsonWebKey | undefined {
  const [algorithm, bits] = children(readDer(der));
  const [algorithmOid, curve] = children(algorithm);
  if (readOid(algorithmOid) !== OID.ecPublicKey || !curve || curve.tag !== 0x06 || readOid(curve) !== P256_CURVE) return undefined;
  const point = readBitString(bits).bytes;
  if (point.length !== 65 || point[0] !== 0x04) return undefined;
  return { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') };
}

/** Records the SPKI DER a key was imported from (a CSR's), so building a certificate for it never exports it again. */
export function rememberSpki(publicKey: KeyObject, der: Buffer): void {
  spkiCache.set(publicKey, der);
}

/** SubjectPublicKeyInfo DER, cached per KeyObject (export is the costly part of building a certificate). */
export function spkiOf(publicKey: KeyObject): Buffer {
  let der = spkiCache.get(publicKey);
  if (!der) {
    der = publicKey.export({ type: 'spki', format: 'der' });
    spkiCache.set(publicKey, der);
  }
  return der;
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bytes. */
export function keyIdentifierOf(spki: Buffer): Buffer {
  const [, subjectPublicKey] = children(readDer(spki));
  return createHash('sha1').update(readBitString(subjectPublicKey).bytes).digest();
}

const keyIdCache = new WeakMap<KeyObject, Buffer>();

/** keyIdentifierOf(spkiOf(publicKey)), cached per KeyObject. */
export function keyIdentifierOfKey(publicKey: KeyObject): Buffer {
  let id = keyIdCache.get(publicKey);
  if (!id) {
    id = keyIdentifierOf(spkiOf(publicKey));
    keyIdCache.set(publicKey, id);
  }
  return id;
}
