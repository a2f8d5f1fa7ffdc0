// Assembles and signs a v3 certificate from prepared DER parts (RFC 5280 §4.1).
import { randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { bitString, explicit, integer, sequence, time, unsignedInteger } from './der.js';
import { schemeFor, signWith } from './signature.js';

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

export function buildCertificate(t: CertificateTemplate, signer: KeyObject): Buffer {
  const scheme = schemeFor(signer);
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
  return sequence(tbs, scheme.algorithmIdentifier, bitString(signWith(scheme, signer, tbs)));
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
