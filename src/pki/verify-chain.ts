// Checks that a leaf chains directly to one of a set of CAs at a time, for a purpose; the answer says why not,
// in the words Go's crypto/x509 (and so Talos) uses.
import type { X509Certificate } from 'node:crypto';
import type { CertificateStructure } from './certificate-structure.js';
import { structureOf } from './certificate-structure.js';
import { verifyWith } from './signature.js';

export type ChainFailure = 'UnknownAuthority' | 'Expired' | 'NotYetValid' | 'WrongUsage';

export interface VerifyChainOptions {
  /** Default: now. */
  at?: Date;
  /** Required extended key usage; when the leaf or the CA lists EKUs, this one must be among them. */
  purpose?: 'clientAuth' | 'serverAuth';
}

export type ChainResult = { ok: true; ca: X509Certificate } | { ok: false; reason: ChainFailure; message: string };

export function verifyChain(leaf: X509Certificate, cas: readonly X509Certificate[], options: VerifyChainOptions = {}): ChainResult {
  const at = options.at ?? new Date();
  const l = structureOf(leaf);
  const issuers = cas.filter((ca) => signedBy(l, ca));
  if (issuers.length === 0) return fail('UnknownAuthority', 'x509: certificate signed by unknown authority');
  let firstFailure: ChainResult | undefined;
  for (const ca of issuers) {
    const failure = validityFailure(l, at) ?? validityFailure(structureOf(ca), at) ?? usageFailure([l, structureOf(ca)], options.purpose);
    if (!failure) return { ok: true, ca };
    firstFailure ??= failure;
  }
  return firstFailure!;
}

/** True when `ca` issued `leaf`: the reissue policy's IncorrectIssuer check. */
export function isIssuedBy(leaf: X509Certificate, ca: X509Certificate): boolean {
  return signedBy(structureOf(leaf), ca);
}

/** True when `ca` is a CA whose name is the leaf's issuer and whose key verifies the leaf's signature. */
function signedBy(leaf: CertificateStructure, ca: X509Certificate): boolean {
  const c = structureOf(ca);
  return c.extensions.isCA === true && leaf.issuerDer.equals(c.subjectDer) && verifyWith(leaf.signatureOid, ca.publicKey, leaf.tbs, leaf.signature);
}

function validityFailure(s: CertificateStructure, at: Date): ChainResult | undefined {
  const prefix = 'x509: certificate has expired or is not yet valid: current time';
  if (at < s.notBefore) return fail('NotYetValid', `${prefix} ${rfc3339(at)} is before ${rfc3339(s.notBefore)}`);
  if (at > s.notAfter) return fail('Expired', `${prefix} ${rfc3339(at)} is after ${rfc3339(s.notAfter)}`);
  return undefined;
}

function usageFailure(chain: CertificateStructure[], purpose: VerifyChainOptions['purpose']): ChainResult | undefined {
  if (!purpose) return undefined;
  for (const s of chain) {
    const eku = s.extensions.extKeyUsage;
    if (eku && !eku.includes(purpose) && !s.extensions.otherExtKeyUsages?.includes('2.5.29.37.0'))
      return fail('WrongUsage', `x509: certificate specifies an incompatible key usage (${s.subject.text || 'certificate'} lacks ${purpose})`);
  }
  return undefined;
}

const fail = (reason: ChainFailure, message: string): ChainResult => ({ ok: false, reason, message });

const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
