// Certificates that live a day (apid's and trustd's, by default) renew thousands of times in ten years; running every
// one of those renewals through the controllers would take minutes. The simulation runs them with a lifetime of at
// least SIMULATED_FLOOR_HOURS instead (they still meet every CA end and failure the others do), and their calendar
// row is worked out from the real lifetime: renewals come every lifetime x the mean renewal fraction.
import { lifetimesWith } from '../../controllers/index.js';
import type { CertificateLifetimes } from '../../controllers/index.js';
import { RENEW_FROM, RENEW_UNTIL } from '../../controllers/policy/renewal-time.js';
import type { CertificateStatusSpec } from '../../resources/index.js';
import type { CertificateCalendar } from './report.js';

export const SIMULATED_FLOOR_HOURS = 720;
const HOUR = 3_600_000;
const MEAN_FRACTION = (RENEW_FROM + RENEW_UNTIL) / 2;

/** The node's lifetimes with each one under the floor raised to it. */
export function simulatedLifetimes(overrides: Partial<CertificateLifetimes> | undefined): CertificateLifetimes {
  const real = lifetimesWith(overrides);
  const raised = { ...real };
  for (const key of Object.keys(raised) as (keyof CertificateLifetimes)[]) raised[key] = Math.max(raised[key], SIMULATED_FLOOR_HOURS);
  return raised;
}

/** Whether the certificate the node holds lives under the floor: its row is then estimated. */
export function isShortLived(spec: CertificateStatusSpec): boolean {
  if (spec.kind !== 'leaf' || !spec.notBefore || !spec.notAfter || !spec.renewalTime) return false;
  return Date.parse(spec.notAfter) - Date.parse(spec.notBefore) < SIMULATED_FLOOR_HOURS * HOUR;
}

/** The calendar of a short-lived certificate from its next renewal time and lifetime, up to `until` (epoch ms). */
export function estimatedCalendar(id: string, spec: CertificateStatusSpec, until: number): CertificateCalendar {
  const lifetime = Date.parse(spec.notAfter!) - Date.parse(spec.notBefore!);
  const interval = lifetime * MEAN_FRACTION;
  const first = Date.parse(spec.renewalTime!);
  const renewals = first < until ? 1 + Math.floor((until - first) / interval) : 0;
  const row: CertificateCalendar = { id, kind: 'leaf', ca: spec.issuerCA, renewals, estimated: true };
  if (renewals > 0) {
    row.firstRenewal = new Date(first).toISOString();
    row.lastRenewal = new Date(first + (renewals - 1) * interval).toISOString();
  }
  return row;
}
