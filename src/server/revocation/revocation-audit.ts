// How a revocation and its undo read in the audit trail, the same over the API and with --state: which certificate
// (CA, serial, subject, fingerprint) and why. The serial is written as certificate-issued records write it (Node's
// X509Certificate.serialNumber: upper-case hex in whole bytes), so a revocation matches the issuance it undoes.
import type { AuditEvent } from '../../controllers/audit/index.js';
import type { AuditDetails } from '../../resources/audit-records.js';
import type { RevocationEvent } from './record-revocation.js';

export function revocationAuditEvent({ action, revocation: r }: RevocationEvent): Omit<AuditEvent, 'actor' | 'source'> {
  const details: AuditDetails = { ca: r.ca, serial: wholeBytes(r.serial).toUpperCase(), reason: r.reason, reasonCode: r.reasonCode };
  // A revocation by serial alone knows no subject or fingerprint: left out rather than recorded empty.
  if (r.subject) details.subject = r.subject;
  if (r.fingerprint) details.fingerprint = r.fingerprint;
  if (action === 'revoked') return { action: 'certificate-revoked', details };
  return { action: 'revocation-lifted', details: { ...details, revokedAt: r.revokedAt, revokedBy: r.revokedBy } };
}

/** Stored serials drop leading zeros (normalSerial); whole bytes put back the one a serial like `a1b` loses (`0A1B`). */
const wholeBytes = (hex: string): string => (hex.length % 2 ? `0${hex}` : hex);
