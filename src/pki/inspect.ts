// A plain-data view of a certificate: what CertificateStatus and `trustctl` show a person.
import type { X509Certificate } from 'node:crypto';
import { structureOf } from './certificate-structure.js';
import type { KeyAlgorithm } from './keys.js';
import { algorithmOf } from './keys.js';
import type { DistinguishedName } from './name.js';
import { parseCertificatePem } from './pem.js';
import type { ExtKeyUsageName, KeyUsageName } from './profiles.js';

export type NameInfo = DistinguishedName;

export interface CertificateInfo {
  subject: NameInfo;
  issuer: NameInfo;
  /** Upper-case hex without separators, as `openssl x509 -serial` prints it. */
  serial: string;
  dnsNames: string[];
  ipAddresses: string[];
  keyUsage: KeyUsageName[];
  extKeyUsage: ExtKeyUsageName[];
  isCA: boolean;
  /** Upper-case colon-separated hex, as `openssl x509 -fingerprint -sha256` prints it. */
  sha256Fingerprint: string;
  keyAlgorithm: KeyAlgorithm;
  /** Bits: the modulus for RSA, the curve for ECDSA, 256 for Ed25519. */
  keySize: number;
  /** 'P-256', 'P-384' or 'P-521' for ECDSA. */
  curve?: string;
  notBefore: Date;
  notAfter: Date;
  /** Colon-separated upper-case hex, as OpenSSL prints key identifiers. */
  subjectKeyId?: string;
  authorityKeyId?: string;
  selfSigned: boolean;
}

const CURVES: Record<string, { name: string; bits: number }> = {
  prime256v1: { name: 'P-256', bits: 256 },
  secp384r1: { name: 'P-384', bits: 384 },
  secp521r1: { name: 'P-521', bits: 521 },
};

export function inspectCertificate(input: X509Certificate | string): CertificateInfo {
  const cert = typeof input === 'string' ? parseCertificatePem(input) : input;
  const s = structureOf(cert);
  const key = cert.publicKey;
  const keyAlgorithm = algorithmOf(key, 'certificate public key');
  const curve = keyAlgorithm === 'ecdsa' ? CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
  const info: CertificateInfo = {
    subject: s.subject,
    issuer: s.issuer,
    serial: s.serial.toString('hex').toUpperCase(),
    dnsNames: s.extensions.dnsNames,
    ipAddresses: s.extensions.ipAddresses,
    keyUsage: s.extensions.keyUsage ?? [],
    extKeyUsage: s.extensions.extKeyUsage ?? [],
    isCA: s.extensions.isCA === true,
    sha256Fingerprint: cert.fingerprint256,
    keyAlgorithm,
    keySize: keyAlgorithm === 'rsa' ? (key.asymmetricKeyDetails?.modulusLength ?? 0) : keyAlgorithm === 'ed25519' ? 256 : (curve?.bits ?? 0),
    notBefore: s.notBefore,
    notAfter: s.notAfter,
    selfSigned: s.issuerDer.equals(s.subjectDer),
  };
  if (curve) info.curve = curve.name;
  if (s.extensions.subjectKeyId) info.subjectKeyId = colonHex(s.extensions.subjectKeyId);
  if (s.extensions.authorityKeyId) info.authorityKeyId = colonHex(s.extensions.authorityKeyId);
  return info;
}

const colonHex = (b: Buffer) => b.toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
