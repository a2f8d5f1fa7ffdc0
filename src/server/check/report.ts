// What `trustctl check` reports: per certificate, how often it would be renewed in the window, and the problems
// foreseen, each with when it happens and the command that prevents it.
import type { CaName } from '../../resources/common.js';

export type CheckSeverity = 'warning' | 'critical';

export interface CheckFinding {
  severity: CheckSeverity;
  code: 'CAExpires' | 'ExpiredInUse' | 'RenewalFails' | 'KeyNotAllowed' | 'ClientCertificateExpires' | 'SimulationStopped';
  /** When the problem happens (ISO-8601 UTC). */
  at: string;
  subject: string;
  message: string;
  /** The command (or step) that prevents it. */
  fix: string;
}

export interface CertificateCalendar {
  /** The CertificateStatus id, e.g. `api-server` or `ca-os`. */
  id: string;
  kind: 'ca' | 'leaf';
  ca: CaName;
  renewals: number;
  firstRenewal?: string;
  lastRenewal?: string;
  /** The notAfter of the certificate held at the end of the simulation. */
  notAfter?: string;
  /** Worked out from its lifetime rather than simulated one by one (a certificate that lives less than 30 days). */
  estimated?: boolean;
}

export interface CheckReport {
  from: string;
  to: string;
  /** Where the simulation stopped: `to`, or a day before a CA ends (nothing after that renews without the fix). */
  simulatedUntil: string;
  /** How many times the simulated clock jumped to a controller's wake-up time. */
  wakeUps: number;
  certificates: CertificateCalendar[];
  findings: CheckFinding[];
}

const ORDER: Record<CheckSeverity, number> = { critical: 0, warning: 1 };

/** Findings in time order, critical first among those at the same time. */
export function sortFindings(findings: CheckFinding[]): CheckFinding[] {
  return [...findings].sort((a, b) => a.at.localeCompare(b.at) || ORDER[a.severity] - ORDER[b.severity] || a.subject.localeCompare(b.subject));
}
