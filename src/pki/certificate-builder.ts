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

/** A random positive serial below 2^128, as Go's crypto/x509 users (Talos, kubeadm) draw them. */
export function randomSerial(): Buffer {
  for (;;) {
    const b = randomBytes(16);
    if (b.some((x) => x !== 0)) return b;
  }
}

/** Certificates carry whole seconds; drop the milliseconds so what we compute equals what we encode. */
export const toSeconds = (d: Date): Date => new Date(Math.floor(d.getTime() / 1000) * 1000);
