// A plain-data view of a certificate: what CertificateStatus and `trustctl` show a person.
import type { X509Certificate } from 'node:crypto';
import type { KeyAlgorithm } from './keys.js';
import type { ExtKeyUsageName, KeyUsageName } from './profiles.js';

export interface NameInfo {
  /** Go's pkix.Name form: most specific first, e.g. "CN=talosctl-client,O=os:admin". */
  text: string;
  commonName: string;
  organizations: string[];
}

export interface CertificateInfo {
  subject: NameInfo;
  issuer: NameInfo;
  /** Lower-case hex without separators or leading zero bytes. */
  serial: string;
  dnsNames: string[];
  ipAddresses: string[];
  keyUsage: KeyUsageName[];
  extKeyUsage: ExtKeyUsageName[];
  isCA: boolean;
  /** Upper-case colon-separated hex, as `openssl x509 -fingerprint -sha256` prints it. */
  sha256Fingerprint: string;
  keyAlgorithm: KeyAlgorithm;
  /** Bits for RSA, curve size for ECDSA, 256 for Ed25519. */
  keySize: number;
  /** 'P-256', 'P-384', 'P-521' for ECDSA. */
  curve?: string;
  notBefore: Date;
  notAfter: Date;
  subjectKeyId?: string;
  authorityKeyId?: string;
}

export function inspectCertificate(_cert: X509Certificate | string): CertificateInfo {
  throw new Error('inspectCertificate: not implemented yet');
}
