// PKCS#10 certificate signing requests: built for a key, parsed and self-signature-checked as trustd does.
import type { KeyObject } from 'node:crypto';
import type { KeyAlgorithm, KeyPair } from './keys.js';
import type { ExtKeyUsageName, KeyUsageName } from './profiles.js';

export interface CsrSubject {
  commonName?: string;
  organizations?: string[];
}

export interface CsrSans {
  dnsNames?: string[];
  ipAddresses?: string[];
}

export interface ParsedCsr {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  publicKey: KeyObject;
  keyAlgorithm: KeyAlgorithm;
  requestedExtensions: { isCA?: boolean; keyUsage?: KeyUsageName[]; extKeyUsage?: ExtKeyUsageName[] };
  der: Buffer;
}

export function createCsr(_key: KeyPair, _subject: CsrSubject, _sans: CsrSans = {}): string {
  throw new Error('createCsr: not implemented yet');
}

export function parseCsr(_pem: string): ParsedCsr {
  throw new Error('parseCsr: not implemented yet');
}
