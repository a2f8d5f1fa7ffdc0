// What a certificate-issued record says about the certificate: enough to find it again (CA, serial, subject, names,
// lifetime), read off the parsed certificate the issuer already holds, so recording costs no second parse.
import type { X509Certificate } from 'node:crypto';
import type { AuditDetails } from '../../resources/audit-records.js';

/** `ca`: the CA that signed it (os, etcd, kubernetes, aggregator ...). */
export function certificateDetails(ca: string, cert: X509Certificate): AuditDetails {
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  return {
    ca,
    serial: cert.serialNumber.toUpperCase(),
    subject: cert.subject.replace(/\n/g, ','),
    sans: sansOf(cert.subjectAltName),
    notAfter: new Date(notAfter).toISOString(),
    lifetimeHours: Math.round((notAfter - notBefore) / 36_000) / 100,
  };
}

/** `DNS:a, IP Address:10.0.0.1` -> ['a', '10.0.0.1']. */
function sansOf(text: string | undefined): string[] {
  if (!text) return [];
  return text.split(', ').map((part) => part.slice(part.indexOf(':') + 1));
}
