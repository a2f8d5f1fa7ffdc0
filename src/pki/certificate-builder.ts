// Assembles and signs a v3 certificate from prepared DER parts (RFC 5280 §4.1).
import { randomBytes } from 'node:crypto';
import type { CASigner } from './ca-signer.js';
import { syncSignerOf } from './ca-signer.js';
import { bitString, explicit, integer, sequence, time, unsignedInteger } from './der.js';
import { schemeFor } from './signature.js';

export interface CertificateTemplate {
  serial: Buffer;
  issuerDer: Buffer;
  subjectDer: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: Buffer[];
}

const VERSION_3 = explicit(0, integer(2));

/** Signs through the CA's signer: in memory, or a round trip to a PKCS#11 token. */
export async function buildCertificate(t: CertificateTemplate, signer: CASigner): Promise<Buffer> {
  const { tbs, algorithmIdentifier } = toBeSigned(t, signer);
  return sequence(tbs, algorithmIdentifier, bitString(await signer.sign(tbs)));
}

/** The same, for a CA whose key is in memory: bulk issuing and the synchronous callers need no promise per certificate. */
export function buildCertificateSync(t: CertificateTemplate, signer: CASigner): Buffer {
  const sign = syncSignerOf(signer);
  const { tbs, algorithmIdentifier } = toBeSigned(t, signer);
  return sequence(tbs, algorithmIdentifier, bitString(sign(tbs)));
}

function toBeSigned(t: CertificateTemplate, signer: CASigner): { tbs: Buffer; algorithmIdentifier: Buffer } {
  const scheme = schemeFor(signer.publicKey);
  const tbs = sequence(
    VERSION_3,
    unsignedInteger(t.serial),
    scheme.algorithmIdentifier,
    t.issuerDer,
    sequence(time(t.notBefore), time(t.notAfter)),
    t.subjectDer,
    t.spki,
    explicit(3, sequence(...t.extensions)),
  );
  return { tbs, algorithmIdentifier: scheme.algorithmIdentifier };
}

const SERIAL_BYTES = 16;
const POOL_SERIALS = 256;
let pool = Buffer.alloc(0);
let poolAt = 0;

/** A random positive serial below 2^128, as Go's crypto/x509 users (Talos, kubeadm) draw them. */
export function randomSerial(): Buffer {
  for (;;) {
    // one CSPRNG call per 256 serials: a 16-byte randomBytes call per certificate showed up in profiles
    if (poolAt >= pool.length) {
      pool = randomBytes(SERIAL_BYTES * POOL_SERIALS);
      poolAt = 0;
    }
    const b = Buffer.from(pool.subarray(poolAt, poolAt + SERIAL_BYTES));
    poolAt += SERIAL_BYTES;
    if (b.some((x) => x !== 0)) return b;
  }
}

/** Certificates carry whole seconds; drop the milliseconds so what we compute equals what we encode. */
export const toSeconds = (d: Date): Date => new Date(Math.floor(d.getTime() / 1000) * 1000);
