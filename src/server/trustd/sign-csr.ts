// What trustd signs: a server-auth-only certificate for the CSR's key and names. Any Organization is dropped (a worker
// must not mint role-bearing certificates); CSRs asking for a CA or for other usages are refused outright, so the
// requester learns that its request cannot be honoured instead of receiving something else than it asked for.
import { CsrError, parseCsr, issueCertificate, PkiError } from '../../pki/index.js';
import type { CertificateAuthority, IssuedCertificate, ParsedCsr } from '../../pki/index.js';
import { TrustdError } from './trustd-error.js';

export const DEFAULT_TRUSTD_VALIDITY_HOURS = 24;

export interface SignCsrOptions {
  now: Date;
  validityHours?: number;
}

export interface SignedCsr {
  issued: IssuedCertificate;
  csr: ParsedCsr;
}

const SERVER_KEY_USAGES = new Set(['digitalSignature', 'keyEncipherment']);

/** Throws TrustdError 400 with trustd's messages (`failed to decode CSR`, `failed to parse CSR: ...`, ...). */
export function signCsr(ca: CertificateAuthority, csrPem: string, options: SignCsrOptions): SignedCsr {
  const csr = parseCsrOr400(csrPem);
  refuseNonServerRequests(csr);
  try {
    const issued = issueCertificate(ca, 'node-server', {
      publicKey: csr.publicKey,
      now: options.now,
      validityHours: options.validityHours ?? DEFAULT_TRUSTD_VALIDITY_HOURS,
      commonName: csr.commonName,
      dnsNames: csr.dnsNames,
      ipAddresses: csr.ipAddresses,
    });
    return { issued, csr };
  } catch (err) {
    if (err instanceof PkiError) throw new TrustdError(400, `failed to sign CSR: ${err.message}`);
    throw err;
  }
}

function parseCsrOr400(pem: string): ParsedCsr {
  try {
    return parseCsr(pem);
  } catch (err) {
    if (err instanceof CsrError) throw new TrustdError(400, err.message);
    throw err;
  }
}

function refuseNonServerRequests(csr: ParsedCsr): void {
  const asked = csr.requestedExtensions;
  if (asked.isCA) {
    throw new TrustdError(400, 'CSR requests a CA certificate (basicConstraints CA:TRUE); trustd signs server certificates only: drop the basicConstraints extension');
  }
  const badKeyUsages = (asked.keyUsage ?? []).filter((u) => !SERVER_KEY_USAGES.has(u));
  if (badKeyUsages.length) {
    throw new TrustdError(400, `CSR requests key usage ${badKeyUsages.join(', ')}; trustd signs server certificates only (digitalSignature, keyEncipherment): drop them`);
  }
  const badExtKeyUsages = (asked.extKeyUsage ?? []).filter((u) => u !== 'serverAuth');
  if (badExtKeyUsages.length) {
    throw new TrustdError(400, `CSR requests extended key usage ${badExtKeyUsages.join(', ')}; trustd signs serverAuth certificates only: drop them`);
  }
}
