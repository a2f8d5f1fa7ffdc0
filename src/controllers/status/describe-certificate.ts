// Reads a PEM certificate into the fields CertificateStatus shows.
import type { X509Certificate } from 'node:crypto';
import { inspectCertificate } from '../../pki/index.js';
import type { CertificateStatusSpec } from '../../resources/certificate-status.js';
import { boundedMemo, issuedByCached, parseCertificate } from '../certificate-cache.js';

export type DescribedFields = Pick<
  CertificateStatusSpec,
  'subject' | 'issuer' | 'serial' | 'sha256Fingerprint' | 'dnsNames' | 'ipAddresses' | 'keyAlgorithm' | 'keySize' | 'notBefore' | 'notAfter'
>;

export interface Described {
  fields: DescribedFields;
  cert: X509Certificate;
  notBefore: Date;
  notAfter: Date;
}

const ALGORITHM_NAMES = { ecdsa: 'ECDSA', ed25519: 'Ed25519', rsa: 'RSA' } as const;

export const describeCertificate = boundedMemo(describe);

function describe(pem: string): Described {
  const cert = parseCertificate(pem);
  const info = inspectCertificate(cert);
  const keyAlgorithm = info.keyAlgorithm === 'ecdsa' && info.curve ? `ECDSA ${info.curve}` : ALGORITHM_NAMES[info.keyAlgorithm];
  return {
    cert,
    notBefore: info.notBefore,
    notAfter: info.notAfter,
    fields: {
      subject: info.subject.text,
      issuer: info.issuer.text,
      serial: info.serial,
      sha256Fingerprint: info.sha256Fingerprint,
      dnsNames: info.dnsNames,
      ipAddresses: info.ipAddresses,
      keyAlgorithm,
      keySize: info.keySize,
      notBefore: info.notBefore.toISOString(),
      notAfter: info.notAfter.toISOString(),
    },
  };
}

/** Whether one of the accepted CAs signed the certificate (validity in time is judged separately, by certificateState). */
export function chainsTo(certPem: string, acceptedPems: readonly string[]): { ok: boolean; message?: string } {
  const ok = acceptedPems.some((pem) => issuedByCached(certPem, pem));
  return ok ? { ok } : { ok, message: 'x509: certificate signed by unknown authority (no accepted CA signed it)' };
}
