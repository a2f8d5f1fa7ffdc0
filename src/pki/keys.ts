// Key pairs as node:crypto KeyObjects, and their PEM forms with the labels Talos writes.
import { createPrivateKey, createPublicKey, generateKeyPair as generateKeyPairCb, generateKeyPairSync as generateKeyPairSyncNode } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { PkiError } from './errors.js';
import { decodePem, encodePem } from './pem.js';

export type KeyAlgorithm = 'ecdsa' | 'ed25519' | 'rsa';
export type RsaBits = 2048 | 3072 | 4096;
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['ecdsa', 'ed25519', 'rsa'];

export interface KeyPair {
  algorithm: KeyAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Modulus size, for RSA keys. */
  rsaBits?: number;
}

export interface KeyOptions {
  /** RSA modulus size; default 2048. */
  rsaBits?: RsaBits;
}

/** Generates off the event loop: RSA-4096 takes about 1.4 s. ECDSA keys are P-256. */
export function generateKeyPair(algorithm: KeyAlgorithm, options: KeyOptions = {}): Promise<KeyPair> {
  checkAlgorithm(algorithm);
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKey: KeyObject, privateKey: KeyObject) =>
      err ? reject(err) : resolve(keyPairOf(privateKey, publicKey));
    if (algorithm === 'ecdsa') generateKeyPairCb('ec', { namedCurve: 'P-256' }, done);
    else if (algorithm === 'ed25519') generateKeyPairCb('ed25519', undefined, done);
    else generateKeyPairCb('rsa', { modulusLength: rsaBitsOf(options), publicExponent: 65537 }, done);
  });
}

export function generateKeyPairSync(algorithm: KeyAlgorithm, options: KeyOptions = {}): KeyPair {
  checkAlgorithm(algorithm);
  const { privateKey, publicKey } =
    algorithm === 'ecdsa'
      ? generateKeyPairSyncNode('ec', { namedCurve: 'P-256' })
      : algorithm === 'ed25519'
        ? generateKeyPairSyncNode('ed25519')
        : generateKeyPairSyncNode('rsa', { modulusLength: rsaBitsOf(options), publicExponent: 65537 });
  return keyPairOf(privateKey, publicKey);
}

/** Reads SEC1 `EC PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`, Talos' `ED25519 PRIVATE KEY` (PKCS#8 inside) or PKCS#8 `PRIVATE KEY`. */
export function parsePrivateKeyPem(pem: string, what = 'private key'): KeyPair {
  const block = decodePem(pem, what);
  const type = LABEL_TYPES[block.label];
  if (!type) {
    const hint = block.label === 'ENCRYPTED PRIVATE KEY' ? ' (encrypted keys are not supported: decrypt it first, e.g. `openssl pkey -in key.pem`)' : '';
    throw new PkiError(
      'InvalidKey',
      `${what}: unsupported PEM label "${block.label}"${hint}; expected one of ${Object.keys(LABEL_TYPES).map((l) => `"${l}"`).join(', ')}`,
    );
  }
  if (/Proc-Type:\s*4,ENCRYPTED/.test(pem)) throw new PkiError('InvalidKey', `${what}: the key is encrypted; decrypt it first (e.g. \`openssl pkey -in key.pem\`)`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: block.der, format: 'der', type });
  } catch (err) {
    throw new PkiError('InvalidKey', `${what}: the "${block.label}" block does not hold a valid key (${(err as Error).message})`);
  }
  const pair = keyPairOf(privateKey, createPublicKey(privateKey), what);
  if (block.label === 'ED25519 PRIVATE KEY' && pair.algorithm !== 'ed25519')
    throw new PkiError('InvalidKey', `${what}: the "ED25519 PRIVATE KEY" block holds a ${pair.algorithm} key`);
  return pair;
}

/** Writes the label Talos uses for the algorithm: `EC PRIVATE KEY`, `RSA PRIVATE KEY` or `ED25519 PRIVATE KEY`. */
export function encodePrivateKeyPem(key: KeyPair): string {
  if (key.algorithm === 'ecdsa') return encodePem('EC PRIVATE KEY', key.privateKey.export({ type: 'sec1', format: 'der' }));
  if (key.algorithm === 'rsa') return encodePem('RSA PRIVATE KEY', key.privateKey.export({ type: 'pkcs1', format: 'der' }));
  return encodePem('ED25519 PRIVATE KEY', key.privateKey.export({ type: 'pkcs8', format: 'der' }));
}

/** Standard PKCS#8 `PRIVATE KEY`, the form OpenSSL and Node read for every algorithm. */
export function encodePrivateKeyPkcs8Pem(key: KeyPair): string {
  return encodePem('PRIVATE KEY', key.privateKey.export({ type: 'pkcs8', format: 'der' }));
}

export function encodePublicKeyPem(publicKey: KeyObject): string {
  return encodePem('PUBLIC KEY', publicKey.export({ type: 'spki', format: 'der' }));
}

/** Wraps node:crypto keys as a KeyPair, rejecting key types X.509 here cannot sign with. */
export function keyPairOf(privateKey: KeyObject, publicKey: KeyObject = createPublicKey(privateKey), what = 'private key'): KeyPair {
  const algorithm = algorithmOf(privateKey, what);
  const pair: KeyPair = { algorithm, privateKey, publicKey };
  if (algorithm === 'rsa') pair.rsaBits = privateKey.asymmetricKeyDetails?.modulusLength;
  return pair;
}

export function algorithmOf(key: KeyObject, what = 'key'): KeyAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (!curve || !SUPPORTED_CURVES.has(curve))
        throw new PkiError('InvalidKey', `${what}: EC curve "${curve ?? 'unknown'}" is not supported; use P-256 (or P-384, P-521)`);
      return 'ecdsa';
    }
    case 'ed25519':
      return 'ed25519';
    case 'rsa':
      return 'rsa';
    default:
      throw new PkiError('InvalidKey', `${what}: key type "${key.asymmetricKeyType ?? 'unknown'}" is not supported; use ecdsa, ed25519 or rsa`);
  }
}

/** True when both keys are the same public key (compared as SPKI DER). */
export function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  // KeyObject.equals on keys of two types (RSA and EC, say) leaves "different key types" on OpenSSL's error queue,
  // and the next key parsed in this process then fails with that stale error; keys of two types are never equal.
  return a.asymmetricKeyType === b.asymmetricKeyType && a.equals(b);
}

const SUPPORTED_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

const LABEL_TYPES: Record<string, 'sec1' | 'pkcs1' | 'pkcs8'> = {
  'EC PRIVATE KEY': 'sec1',
  'RSA PRIVATE KEY': 'pkcs1',
  'ED25519 PRIVATE KEY': 'pkcs8',
  'PRIVATE KEY': 'pkcs8',
};

function checkAlgorithm(algorithm: string): asserts algorithm is KeyAlgorithm {
  if (!KEY_ALGORITHMS.includes(algorithm as KeyAlgorithm))
    throw new PkiError('InvalidOption', `key algorithm: "${algorithm}" is not supported; use one of ecdsa, ed25519, rsa`);
}

function rsaBitsOf(options: KeyOptions): number {
  const bits = options.rsaBits ?? 2048;
  if (![2048, 3072, 4096].includes(bits)) throw new PkiError('InvalidOption', `rsaBits: ${bits} is not supported; use 2048, 3072 or 4096`);
  return bits;
}
