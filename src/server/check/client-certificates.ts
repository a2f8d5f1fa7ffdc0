// Client certificates held outside the node (a talosconfig's contexts): nothing renews them, so one that ends in the
// window is a finding whose fix is a new talosconfig.
import { X509Certificate } from 'node:crypto';
import { sortFindings } from './report.js';
import type { CheckFinding, CheckReport } from './report.js';

export interface HeldClientCertificate {
  /** Where it is held, e.g. `talosconfig /home/me/.talos/config context "demo"`. */
  subject: string;
  crtPem: string;
}

export const NEW_TALOSCONFIG = 'trustctl config new';

/** A finding for each certificate whose notAfter is before `until`; critical when already past at `from`. */
export function clientCertificateFindings(held: readonly HeldClientCertificate[], from: Date, until: Date): CheckFinding[] {
  const findings: CheckFinding[] = [];
  for (const h of held) {
    const notAfter = new Date(new X509Certificate(h.crtPem).validTo);
    if (notAfter >= until) continue;
    const past = notAfter <= from;
    findings.push({
      severity: past ? 'critical' : 'warning',
      code: 'ClientCertificateExpires',
      at: notAfter.toISOString(),
      subject: h.subject,
      message: `its client certificate ${past ? 'expired' : 'expires'} at ${notAfter.toISOString()}; nothing renews it`,
      fix: NEW_TALOSCONFIG,
    });
  }
  return findings;
}

/** `report` with a finding for each held certificate that ends before the report's window does. */
export function withClientCertificates(report: CheckReport, held: readonly HeldClientCertificate[], from: Date): CheckReport {
  if (held.length === 0) return report;
  const found = clientCertificateFindings(held, from, new Date(report.to));
  return { ...report, findings: sortFindings([...report.findings, ...found]) };
}
