// A CASigner whose key stays in a PKCS#11 token: each signature is a C_SignInit + C_Sign round trip on a session of
// the token's pool, run on libuv's thread pool (C_SignAsync), never on the event loop.
import { createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { CASigner, SignatureEncoding } from '../ca-signer.js';
import { sequence, unsignedInteger } from '../der.js';
import { PkiError } from '../errors.js';
import { algorithmOf } from '../keys.js';
import type { Pkcs11Uri } from './pkcs11-uri.js';
import { formatPkcs11Uri } from './pkcs11-uri.js';
import type { Pkcs11Token } from './pkcs11-token.js';
import { findPrivateKey, signMechanismOf } from './token-keys.js';
import { ckrOf, TokenError } from './token-error.js';

/** Big enough for RSA-4096 (512 bytes) and every ECDSA and EdDSA signature. */
const SIGNATURE_BUFFER = 1024;

/**
 * The signer for the token key `uri` names, whose public half is `publicKey` (from the CA certificate: the token is
 * trusted to sign, not to say which key the CA has). P-256, Ed25519 and RSA keys; the key is looked up once, here.
 */
export function tokenSigner(token: Pkcs11Token, uri: Pkcs11Uri, publicKey: KeyObject): CASigner {
  const algorithm = algorithmOf(publicKey, 'CA key');
  if (algorithm === 'ecdsa' && publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new PkiError('InvalidKey', `CA key ${formatPkcs11Uri(uri)}: only P-256 ECDSA keys are signed with in a token`);
  const { mechanism, name } = signMechanismOf(algorithm);
  if (!token.mechanisms().has(mechanism))
    throw token.error('mechanism', `the token does not support ${name} (0x${mechanism.toString(16)}), which its ${algorithm} CA key needs`, 'move the CA to a token that supports it');
  const handle = findPrivateKey(token, uri);
  const keyRef = formatPkcs11Uri(uri);
  const rsaBits = publicKey.asymmetricKeyDetails?.modulusLength;

  async function sign(data: Buffer, encoding: SignatureEncoding = 'der'): Promise<Buffer> {
    // CKM_ECDSA signs a digest: hashing here sends 32 bytes over instead of the whole certificate
    const input = algorithm === 'ecdsa' ? createHash('sha256').update(data).digest() : data;
    let signature: Buffer;
    try {
      signature = await token.withSession(async (session) => {
        token.lib.C_SignInit(session, { mechanism }, handle);
        return token.lib.C_SignAsync(session, input, Buffer.alloc(SIGNATURE_BUFFER));
      });
    } catch (err) {
      if (err instanceof TokenError) throw err;
      throw token.error('sign', `signing with ${keyRef} failed (${ckrOf(err)})`, 'check that the token is present and the key is still there; trustctl retries');
    }
    return algorithm === 'ecdsa' && encoding === 'der' ? ecdsaDer(signature) : Buffer.from(signature);
  }

  return { algorithm, publicKey, ...(rsaBits ? { rsaBits } : {}), location: 'hsm', keyRef, sign };
}

/** PKCS#11 returns ECDSA signatures as r||s; X.509 wants SEQUENCE { INTEGER r, INTEGER s }. */
function ecdsaDer(raw: Buffer): Buffer {
  const half = raw.length / 2;
  return sequence(unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)));
}
