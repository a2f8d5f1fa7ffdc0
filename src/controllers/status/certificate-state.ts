// The state of one certificate at a moment, and the next moment that state can change (so a timer, not polling,
// keeps CertificateStatus current).
import type { CertificateState } from '../../resources/certificate-status.js';

export interface StateInput {
  notBefore: Date;
  notAfter: Date;
  /** Set for what we renew automatically. */
  renewalTime?: Date;
  chainsToAcceptedCA: boolean;
  chainMessage?: string;
  now: Date;
}

export interface StateVerdict {
  state: CertificateState;
  message: string;
  /** The next time the verdict may change; undefined when it cannot change by time alone. */
  nextChange?: Date;
}

const DAY = 86_400_000;

/** Where "expiring soon" starts for what we do not renew: the last tenth of the lifetime, at most a year. */
export function expiringSoonFrom(notBefore: Date, notAfter: Date): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  return new Date(notAfter.getTime() - Math.min(lifetime / 10, 365 * DAY));
}

export function certificateState(c: StateInput): StateVerdict {
  const now = c.now.getTime();
  const iso = (d: Date) => d.toISOString();
  if (now < c.notBefore.getTime()) {
    return { state: 'NotYetValid', message: `not valid before ${iso(c.notBefore)}; the clock reads ${iso(c.now)} (clock skew?)`, nextChange: c.notBefore };
  }
  if (now >= c.notAfter.getTime()) return { state: 'Expired', message: `expired at ${iso(c.notAfter)}` };
  if (!c.chainsToAcceptedCA) return { state: 'Invalid', message: c.chainMessage ?? 'does not chain to an accepted CA', nextChange: c.notAfter };
  if (c.renewalTime) {
    if (now >= c.renewalTime.getTime()) return { state: 'Renewing', message: `renewal due since ${iso(c.renewalTime)}`, nextChange: c.notAfter };
    return { state: 'Valid', message: `renews at ${iso(c.renewalTime)}`, nextChange: c.renewalTime };
  }
  const soon = expiringSoonFrom(c.notBefore, c.notAfter);
  if (now >= soon.getTime()) return { state: 'ExpiringSoon', message: `expires at ${iso(c.notAfter)} and is not renewed automatically`, nextChange: c.notAfter };
  return { state: 'Valid', message: `valid until ${iso(c.notAfter)}`, nextChange: soon };
}

const SEVERITY_ORDER: readonly CertificateState[] = ['Valid', 'Pending', 'Renewing', 'ExpiringSoon', 'NotYetValid', 'Invalid', 'Expired'];

export function worseState(a: CertificateState, b: CertificateState): CertificateState {
  return SEVERITY_ORDER.indexOf(a) >= SEVERITY_ORDER.indexOf(b) ? a : b;
}
