// CA keys inside a token: generated there (sensitive, never extractable), found again from their URI, removed.
import { createPublicKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import type { Handle, Template } from 'pkcs11js';
import { bitString, oid, sequence } from '../der.js';
import type { KeyAlgorithm, KeyPair } from '../keys.js';
import { OID } from '../oids.js';
import type { Pkcs11Uri } from './pkcs11-uri.js';
import { formatPkcs11Uri } from './pkcs11-uri.js';
import type { Pkcs11Token } from './pkcs11-token.js';
import { ckrOf } from './token-error.js';

/** Mechanisms missing from pkcs11js' constants (PKCS#11 3.0). */
export const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
export const CKM_EDDSA = 0x1057;
const CKK_EC_EDWARDS = 0x40;

const P256_PARAMS = oid('1.2.840.10045.3.1.7');
const ED25519_PARAMS = oid(OID.ed25519);

/** Every CA private key in the token, generated or imported: private, sensitive, never extractable, for signing. */
const PRIVATE_KEY_POLICY: Template = [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_SIGN, value: true },
];

interface Recipe {
  generate: number;
  sign: number;
  signName: string;
  keyType: number;
  publicAttributes: Template;
}

function recipeFor(algorithm: KeyAlgorithm, rsaBits: number): Recipe {
  if (algorithm === 'ecdsa')
    return { generate: pkcs11js.CKM_EC_KEY_PAIR_GEN, sign: pkcs11js.CKM_ECDSA, signName: 'CKM_ECDSA', keyType: pkcs11js.CKK_EC, publicAttributes: [{ type: pkcs11js.CKA_EC_PARAMS, value: P256_PARAMS }] };
  if (algorithm === 'ed25519')
    return { generate: CKM_EC_EDWARDS_KEY_PAIR_GEN, sign: CKM_EDDSA, signName: 'CKM_EDDSA', keyType: CKK_EC_EDWARDS, publicAttributes: [{ type: pkcs11js.CKA_EC_PARAMS, value: ED25519_PARAMS }] };
  return {
    generate: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN,
    sign: pkcs11js.CKM_SHA256_RSA_PKCS,
    signName: 'CKM_SHA256_RSA_PKCS',
    keyType: pkcs11js.CKK_RSA,
    publicAttributes: [
      { type: pkcs11js.CKA_MODULUS_BITS, value: rsaBits },
      { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
    ],
  };
}

/** The signing mechanism a key of this algorithm needs, by value and by name. */
export function signMechanismOf(algorithm: KeyAlgorithm): { mechanism: number; name: string } {
  const recipe = recipeFor(algorithm, 2048);
  return { mechanism: recipe.sign, name: recipe.signName };
}

/** Undefined when the token can generate and sign with this algorithm, else which mechanism it lacks. */
export function missingMechanism(algorithm: KeyAlgorithm, mechanisms: ReadonlySet<number>): string | undefined {
  const recipe = recipeFor(algorithm, 2048);
  if (!mechanisms.has(recipe.sign)) return `${recipe.signName} (0x${recipe.sign.toString(16)})`;
  if (!mechanisms.has(recipe.generate)) return `the key-pair generation mechanism 0x${recipe.generate.toString(16)}`;
  return undefined;
}

export interface GeneratedTokenKey {
  uri: Pkcs11Uri;
  publicKey: KeyObject;
}

export interface GenerateTokenKeyOptions {
  algorithm: KeyAlgorithm;
  /** CKA_LABEL of both halves, e.g. "trustplane os CA". */
  label: string;
  rsaBits?: number;
}

/** A key pair made inside the token: the private half is CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE and not CKA_EXTRACTABLE. */
export async function generateTokenKey(token: Pkcs11Token, options: GenerateTokenKeyOptions): Promise<GeneratedTokenKey> {
  const missing = missingMechanism(options.algorithm, token.mechanisms());
  if (missing)
    throw token.error('mechanism', `the token does not support ${missing}, which ${options.algorithm} CA keys need`, 'choose another algorithm (--ca-algorithm ecdsa or rsa) or a token that supports it');
  const recipe = recipeFor(options.algorithm, options.rsaBits ?? 4096);
  const id = randomBytes(16);
  const common: Template = [
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_LABEL, value: options.label },
    { type: pkcs11js.CKA_ID, value: id },
    { type: pkcs11js.CKA_KEY_TYPE, value: recipe.keyType },
  ];
  const publicTemplate: Template = [...common, { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY }, { type: pkcs11js.CKA_VERIFY, value: true }, ...recipe.publicAttributes];
  const privateTemplate: Template = [
    ...common,
    ...PRIVATE_KEY_POLICY,
  ];
  let keys: { publicKey: Handle; privateKey: Handle };
  try {
    keys = await token.lib.C_GenerateKeyPairAsync(token.session, { mechanism: recipe.generate }, publicTemplate, privateTemplate);
  } catch (err) {
    throw token.error('key', `generating a ${options.algorithm} key failed (${ckrOf(err)})`, 'check that the token has room and is writable');
  }
  const publicKey = readPublicKey(token, keys.publicKey, options.algorithm);
  return { uri: { token: token.label, object: options.label, id, type: 'private', query: {} }, publicKey };
}

/**
 * Puts an existing key (a kubeadm CA's, say) into the token: sensitive and not extractable from now on. The token can
 * only record that it was imported (CKA_LOCAL false, CKA_NEVER_EXTRACTABLE false); the copy outside is the caller's
 * to destroy.
 */
export function importTokenKey(token: Pkcs11Token, key: KeyPair, label: string): GeneratedTokenKey {
  if (key.algorithm === 'ecdsa' && key.publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw token.error('key', `only P-256 ECDSA keys are imported, not ${key.publicKey.asymmetricKeyDetails?.namedCurve ?? 'this curve'}`, 're-key the CA with P-256');
  const missing = missingMechanism(key.algorithm, token.mechanisms());
  if (missing) throw token.error('mechanism', `the token does not support ${missing}, which this ${key.algorithm} CA key needs`, 'use a token that supports it');
  const recipe = recipeFor(key.algorithm, key.rsaBits ?? 2048);
  const jwk = key.privateKey.export({ format: 'jwk' });
  const b = (v: string | undefined) => Buffer.from(v ?? '', 'base64url');
  const id = randomBytes(16);
  const common: Template = [
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_ID, value: id },
    { type: pkcs11js.CKA_KEY_TYPE, value: recipe.keyType },
  ];
  const secret: Template =
    key.algorithm === 'rsa'
      ? [
          { type: pkcs11js.CKA_MODULUS, value: b(jwk.n) },
          { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: b(jwk.e) },
          { type: pkcs11js.CKA_PRIVATE_EXPONENT, value: b(jwk.d) },
          { type: pkcs11js.CKA_PRIME_1, value: b(jwk.p) },
          { type: pkcs11js.CKA_PRIME_2, value: b(jwk.q) },
          { type: pkcs11js.CKA_EXPONENT_1, value: b(jwk.dp) },
          { type: pkcs11js.CKA_EXPONENT_2, value: b(jwk.dq) },
          { type: pkcs11js.CKA_COEFFICIENT, value: b(jwk.qi) },
        ]
      : [...recipe.publicAttributes, { type: pkcs11js.CKA_VALUE, value: b(jwk.d) }];
  const privateTemplate: Template = [
    ...common,
    ...PRIVATE_KEY_POLICY,
    ...secret,
  ];
  try {
    token.lib.C_CreateObject(token.session, privateTemplate);
  } catch (err) {
    throw token.error('key', `importing the ${key.algorithm} key "${label}" failed (${ckrOf(err)})`, 'check that the token has room, is writable and accepts imported keys');
  }
  return { uri: { token: token.label, object: label, id, type: 'private', query: {} }, publicKey: key.publicKey };
}

/** The private key the URI names: exactly one must match, or the error says why none (or several) did. */
export function findPrivateKey(token: Pkcs11Token, uri: Pkcs11Uri): Handle {
  const template: Template = [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }];
  if (uri.id) template.push({ type: pkcs11js.CKA_ID, value: uri.id });
  if (uri.object) template.push({ type: pkcs11js.CKA_LABEL, value: uri.object });
  const found = token.findObjects(template);
  if (found.length === 1) return found[0];
  const printed = formatPkcs11Uri(uri);
  if (found.length === 0)
    throw token.error('key', `no private key matches ${printed}`, 'the key was removed or the URI names another token: restore the token from its backup or generate new CAs (trustctl gen secrets --pkcs11-module ...)');
  throw token.error('key', `${found.length} private keys match ${printed}`, 'add the id= attribute to the URI so that it names one key');
}

/** Removes both halves of the key pair the URI names (a CA rotation's old key, a test's leftovers). */
export function destroyTokenKey(token: Pkcs11Token, uri: Pkcs11Uri): number {
  const template: Template = [];
  if (uri.id) template.push({ type: pkcs11js.CKA_ID, value: uri.id });
  if (uri.object) template.push({ type: pkcs11js.CKA_LABEL, value: uri.object });
  if (template.length === 0) throw token.error('key', 'refusing to destroy keys by a URI with neither id nor object', 'name the key with id= or object=');
  const found = token.findObjects(template);
  for (const handle of found) token.lib.C_DestroyObject(token.session, handle);
  return found.length;
}

function readPublicKey(token: Pkcs11Token, handle: Handle, algorithm: KeyAlgorithm): KeyObject {
  if (algorithm === 'rsa') {
    const [n, e] = token.lib.C_GetAttributeValue(token.session, handle, [{ type: pkcs11js.CKA_MODULUS }, { type: pkcs11js.CKA_PUBLIC_EXPONENT }]);
    return createPublicKey({ key: { kty: 'RSA', n: Buffer.from(n.value as Buffer).toString('base64url'), e: Buffer.from(e.value as Buffer).toString('base64url') }, format: 'jwk' });
  }
  const [point] = token.lib.C_GetAttributeValue(token.session, handle, [{ type: pkcs11js.CKA_EC_POINT }]);
  const raw = unwrapOctetString(Buffer.from(point.value as Buffer), algorithm === 'ecdsa' ? 65 : 32);
  const algorithmId = algorithm === 'ecdsa' ? sequence(oid(OID.ecPublicKey), P256_PARAMS) : sequence(oid(OID.ed25519));
  return createPublicKey({ key: sequence(algorithmId, bitString(raw)), format: 'der', type: 'spki' });
}

/** PKCS#11 2.40 says CKA_EC_POINT is a DER OCTET STRING; some tokens give the bare point. Accept both. */
function unwrapOctetString(value: Buffer, length: number): Buffer {
  if (value.length === length + 2 && value[0] === 0x04 && value[1] === length) return value.subarray(2);
  if (value.length === length + 3 && value[0] === 0x04 && value[1] === 0x81 && value[2] === length) return value.subarray(3);
  return value;
}

