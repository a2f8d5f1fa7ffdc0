// Checks that a leaf chains to one of a set of CAs at a time, for a purpose; the answer says why not.
import type { X509Certificate } from 'node:crypto';

export type ChainFailure = 'UnknownAuthority' | 'Expired' | 'NotYetValid' | 'WrongUsage';

export interface VerifyChainOptions {
  at?: Date;
  purpose?: 'clientAuth' | 'serverAuth';
}

export type ChainResult = { ok: true; ca: X509Certificate } | { ok: false; reason: ChainFailure; message: string };

export function verifyChain(_leaf: X509Certificate, _cas: X509Certificate[], _options: VerifyChainOptions = {}): ChainResult {
  throw new Error('verifyChain: not implemented yet');
}
