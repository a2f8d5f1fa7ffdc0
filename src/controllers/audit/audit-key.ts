// The key that signs the audit chain's head: an Ed25519 key made once per store and kept in AuditKeys, sealed like the
// CA keys. Not the node's apid key: that one is re-issued at every renewal and CA rotation (and a worker's comes from
// trustd), so heads signed last year could no longer be checked; this one lives as long as the trail, and an Ed25519
// signature costs tens of microseconds, cheap enough to sign often.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { AUDIT_KEY_ID, AuditKeys } from '../../resources/audit-records.js';
import type { AuditKeySpec } from '../../resources/audit-records.js';
import { isStateError } from '../../runtime/errors.js';
import type { Pointer } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';

export const AUDIT_KEY_POINTER: Pointer = { namespace: AuditKeys.namespace, type: AuditKeys.type, id: AUDIT_KEY_ID };

export interface AuditSigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

function fromSpec(spec: AuditKeySpec): AuditSigningKey {
  return { keyId: spec.keyId, privateKey: createPrivateKey(spec.privateKey), publicKey: createPublicKey(spec.publicKey) };
}

/** The store's audit key, made on first use (another process making it at the same time wins, and we use its key). */
export async function auditSigningKey(state: State): Promise<AuditSigningKey> {
  const found = await state.find<AuditKeySpec>(AUDIT_KEY_POINTER);
  if (found) return fromSpec(found.spec);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const spec: AuditKeySpec = {
    keyId: keyIdOf(publicKey),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  try {
    await state.create<AuditKeySpec>({ metadata: AUDIT_KEY_POINTER, spec });
    return fromSpec(spec);
  } catch (err) {
    if (!isStateError(err, 'AlreadyExists')) throw err;
    return fromSpec((await state.get<AuditKeySpec>(AUDIT_KEY_POINTER)).spec);
  }
}

/** The public half, for verification; undefined when the store has none yet (nothing was ever signed). */
export async function auditVerifyKey(state: State): Promise<{ keyId: string; publicKey: KeyObject } | undefined> {
  const found = await state.find<AuditKeySpec>(AUDIT_KEY_POINTER);
  return found ? { keyId: found.spec.keyId, publicKey: createPublicKey(found.spec.publicKey) } : undefined;
}

/** What a head signature covers: the sequence number and hash of the newest record before it. */
function headMessage(through: number, hash: string): Buffer {
  return Buffer.from(`trustplane audit head\n${through}\n${hash}`);
}

export function signHead(key: AuditSigningKey, through: number, hash: string): string {
  return sign(null, headMessage(through, hash), key.privateKey).toString('base64');
}

export function headSignatureValid(publicKey: KeyObject, through: number, hash: string, signature: string): boolean {
  try {
    return verify(null, headMessage(through, hash), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
