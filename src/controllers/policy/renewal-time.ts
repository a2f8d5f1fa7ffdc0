// When a certificate is renewed: at a point between 2/3 and 9/10 of its lifetime (cert-manager renews at 2/3, kubelet
// at 70-90%). The point comes from a hash of the certificate's id and serial: the same certificate always renews at the
// same time (reproducible, survives restarts), while a fleet of nodes holding "the same" certificate spreads out.
import { createHash } from 'node:crypto';

export const RENEW_FROM = 2 / 3;
export const RENEW_UNTIL = 9 / 10;

/** A reproducible fraction in [0, 1) from a seed. */
export function seededFraction(seed: string): number {
  const digest = createHash('sha256').update(seed).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

export function renewalFraction(seed: string): number {
  return RENEW_FROM + (RENEW_UNTIL - RENEW_FROM) * seededFraction(seed);
}

export function renewalTime(notBefore: Date, notAfter: Date, seed: string): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  return new Date(notBefore.getTime() + Math.floor(lifetime * renewalFraction(seed)));
}
