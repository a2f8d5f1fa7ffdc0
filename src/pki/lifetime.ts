// Bounds on every certificate lifetime a person or a caller can ask for. Below the floor a certificate is as good as
// expired on arrival (and a controller re-issues it several times a second); above the ceiling dates stop being
// encodable long before they stop being useless. Every lifetime input (flags, API bodies, options) is checked here.
import { PkiError } from './errors.js';

/** One hour: the shortest lifetime that survives the 5 minutes of backdating and a renewal at two thirds of it. */
export const MIN_LIFETIME_HOURS = 1;
/** 100 years (876000h): ten times the CA default, far inside what X.509 GeneralizedTime can hold (year 9999). */
export const MAX_LIFETIME_HOURS = 876_000;

export const LIFETIME_RANGE = `${MIN_LIFETIME_HOURS}h to ${MAX_LIFETIME_HOURS}h (100 years)`;

/** Undefined when `hours` is a lifetime we issue for, else why not (the caller prefixes the field or flag). */
export function lifetimeProblem(hours: number): string | undefined {
  if (Number.isFinite(hours) && hours >= MIN_LIFETIME_HOURS && hours <= MAX_LIFETIME_HOURS) return undefined;
  return `must be from ${LIFETIME_RANGE}, got ${Number.isFinite(hours) ? `${hours}h` : String(hours)}`;
}

export function checkLifetime(field: string, hours: number): void {
  const problem = lifetimeProblem(hours);
  if (problem) throw new PkiError('InvalidOption', `${field}: ${problem}`);
}

/** The end of a lifetime that starts at `start`, never later than `limit` (the issuer's own end). */
export function boundedEnd(start: Date, hours: number, limit: Date): { notAfter: Date; clamped: boolean } {
  checkLifetime('validityHours', hours);
  const wanted = start.getTime() + hours * 3_600_000;
  return wanted > limit.getTime() ? { notAfter: limit, clamped: true } : { notAfter: new Date(wanted), clamped: false };
}
