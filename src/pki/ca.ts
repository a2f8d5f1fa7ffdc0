// Certificate authorities: the five Talos CA profiles, created fresh or loaded from PEM.
import type { X509Certificate } from 'node:crypto';
import type { KeyAlgorithm, KeyPair } from './keys.js';

export interface CertificateAuthority {
  certPem: string;
  cert: X509Certificate;
  key: KeyPair;
}

/** os: the Talos API CA (O=talos); kubernetes (O=kubernetes); etcd (O=etcd); aggregator (CN=front-proxy). */
export type CaProfile = 'os' | 'kubernetes' | 'etcd' | 'aggregator';

export interface CreateCaOptions {
  /** Default ecdsa (P-256); Talos upstream uses ed25519 for the os CA. */
  algorithm?: KeyAlgorithm;
  now?: Date;
  /** Default 87600 (10 years). */
  validityHours?: number;
  /** Use this key instead of generating one. */
  key?: KeyPair;
  /** Override the profile's subject. */
  commonName?: string;
  organizations?: string[];
}

export async function createCA(_profile: CaProfile, _options: CreateCaOptions = {}): Promise<CertificateAuthority> {
  throw new Error('createCA: not implemented yet');
}

export function caFromPem(_crtPem: string, _keyPem: string): CertificateAuthority {
  throw new Error('caFromPem: not implemented yet');
}
