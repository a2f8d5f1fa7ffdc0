// Who signs for a CA: the key may sit in this process (a KeyObject) or in a PKCS#11 token that signs on request. Every
// signature a CA makes (CA certificates, leaves, cross-signed CAs, JWTs) goes through this one interface, so where the
// key lives is decided once, when the CA is loaded, and never again by the code that issues.
import { sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { PkiError } from './errors.js';
import type { KeyAlgorithm, KeyPair } from './keys.js';
import { schemeFor } from './signature.js';

/** `memory`: a key held by this process (from config or the store); `hsm`: a key that never leaves a PKCS#11 token. */
export type KeyLocation = 'memory' | 'hsm';

/** X.509 and PKCS#10 carry ECDSA signatures as DER; JWS wants them as raw r||s (IEEE P1363). */
export type SignatureEncoding = 'der' | 'ieee-p1363';

export interface CASigner {
  readonly algorithm: KeyAlgorithm;
  readonly publicKey: KeyObject;
  /** Modulus size, for RSA keys. */
  readonly rsaBits?: number;
  readonly location: KeyLocation;
  /** For errors and status: "in memory", or the key's pkcs11: URI. */
  readonly keyRef: string;
  /** Signs `data` with the scheme the key's algorithm implies (schemeFor): SHA-256 for P-256 and RSA, pure Ed25519. */
  sign(data: Buffer, encoding?: SignatureEncoding): Promise<Buffer>;
  /** Present only where signing needs no round trip (a key in memory): the synchronous issuing paths use it. */
  readonly signSync?: (data: Buffer, encoding?: SignatureEncoding) => Buffer;
}

const memorySigners = new WeakMap<KeyObject, CASigner>();

/** The signer for a key held in memory, one per KeyObject. */
export function memorySigner(key: KeyPair): CASigner {
  let signer = memorySigners.get(key.privateKey);
  if (!signer) {
    const signSync = (data: Buffer, encoding: SignatureEncoding = 'der'): Buffer =>
      sign(schemeFor(key.privateKey).digest, data, encoding === 'der' || key.algorithm !== 'ecdsa' ? key.privateKey : { key: key.privateKey, dsaEncoding: encoding });
    signer = {
      algorithm: key.algorithm,
      publicKey: key.publicKey,
      ...(key.rsaBits ? { rsaBits: key.rsaBits } : {}),
      location: 'memory',
      keyRef: 'in memory',
      sign: (data, encoding) => Promise.resolve().then(() => signSync(data, encoding)),
      signSync,
    };
    memorySigners.set(key.privateKey, signer);
  }
  return signer;
}

/** A signer that can sign synchronously, or a PkiError saying that this CA's key needs the asynchronous path. */
export function syncSignerOf(signer: CASigner): (data: Buffer, encoding?: SignatureEncoding) => Buffer {
  if (signer.signSync) return signer.signSync;
  throw new PkiError('KeyInToken', `CA key ${signer.keyRef} is held in a PKCS#11 token and signs asynchronously; issue through the asynchronous path (issueCertificateAsync)`);
}
