// Issues leaf certificates from a CA according to a named profile.
import type { KeyObject, X509Certificate } from 'node:crypto';
import type { CertificateAuthority } from './ca.js';
import type { KeyAlgorithm, KeyOptions, KeyPair } from './keys.js';
import type { LeafProfile } from './profiles.js';

export interface IssueOptions {
  publicKey: KeyObject;
  now?: Date;
  /** Default: the profile's validity. NotAfter is clamped to the issuer's NotAfter. */
  validityHours?: number;
  /** NotBefore = now - backdateMinutes (default 5) to absorb clock skew. */
  backdateMinutes?: number;
  commonName?: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
}

export interface IssuedCertificate {
  certPem: string;
  cert: X509Certificate;
  der: Buffer;
}

export interface IssuedCertificateAndKey {
  certPem: string;
  keyPem: string;
  cert: X509Certificate;
  key: KeyPair;
}

export type IssueWithKeyOptions = Omit<IssueOptions, 'publicKey'> & KeyOptions & { algorithm?: KeyAlgorithm };

export function issueCertificate(_ca: CertificateAuthority, _profile: LeafProfile, _options: IssueOptions): IssuedCertificate {
  throw new Error('issueCertificate: not implemented yet');
}

export async function issueCertificateAndKey(
  _ca: CertificateAuthority,
  _profile: LeafProfile,
  _options: IssueWithKeyOptions = {},
): Promise<IssuedCertificateAndKey> {
  throw new Error('issueCertificateAndKey: not implemented yet');
}
