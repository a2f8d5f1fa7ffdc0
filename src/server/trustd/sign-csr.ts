// What trustd signs: a server-auth-only certificate for the CSR's key and names. Any Organization is dropped (a worker
// must not mint role-bearing certificates); CSRs asking for a CA, for other usages, for names other than DNS and IP,
// with an extension marked critical that we do not understand, or with an RSA key under 2048 bits are refused
// outright (as Go's crypto/x509 would refuse such a certificate), so the requester learns that its request cannot be
// honoured instead of receiving something else than it asked for.
import { CsrError, parseCsr, issueCertificate, PkiError } from '../../pki/index.js';
import type { CertificateAuthority, IssuedCertificate, ParsedCsr } from '../../pki/index.js';
import { TrustdError } from './trustd-error.js';

export const DEFAULT_TRUSTD_VALIDITY_HOURS = 24;

export interface SignCsrOptions {
  now: Date;
  validityHours?: number;
  /** Refuses (throws TrustdError) a well-formed request the signer must not honour: a revoked node's. */
  admit?: (csr: ParsedCsr) => void;
}

export interface SignedCsr {
  issued: IssuedCertificate;
  csr: ParsedCsr;
}

const SERVER_KEY_USAGES = new Set(['digitalSignature', 'keyEncipherment']);
const MIN_RSA_BITS = 2048;
const EKU_NAMES: Record<string, string> = { '2.5.29.37.0': 'anyExtendedKeyUsage' };

/** Throws TrustdError 400 with trustd's messages (`failed to decode CSR`, `failed to parse CSR: ...`, ...). */
export function signCsr(ca: CertificateAuthority, csrPem: string, options: SignCsrOptions): SignedCsr {
  const csr = parseCsrOr400(csrPem);
  refuseNonServerRequests(csr);
  options.admit?.(csr);
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

export function parseCsrOr400(pem: string): ParsedCsr {
  try {
    return parseCsr(pem);
  } catch (err) {
    if (err instanceof CsrError) throw new TrustdError(400, err.message);
    throw err;
  }
}

function refuseNonServerRequests(csr: ParsedCsr): void {
  const asked = csr.requestedExtensions;
  const bits = csr.publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (csr.keyAlgorithm === 'rsa' && bits < MIN_RSA_BITS) {
    throw new TrustdError(400, `CSR key is RSA-${bits}; trustd signs RSA keys of ${MIN_RSA_BITS} bits or more: make the key with 2048 bits or more (or use ECDSA P-256 or Ed25519)`);
  }
  if (asked.unhandledCritical?.length) {
    throw new TrustdError(400, `CSR requests extension ${asked.unhandledCritical.join(', ')} marked critical, which trustd does not understand (x509: unhandled critical extension): drop it or mark it non-critical`);
  }
  if (asked.otherSubjectAltNames?.length) {
    throw new TrustdError(400, `CSR requests subject alternative name ${asked.otherSubjectAltNames.join(', ')}; trustd signs DNS names and IP addresses only: drop it`);
  }
  if (asked.isCA) {
    throw new TrustdError(400, 'CSR requests a CA certificate (basicConstraints CA:TRUE); trustd signs server certificates only: drop the basicConstraints extension');
  }
  const badKeyUsages = (asked.keyUsage ?? []).filter((u) => !SERVER_KEY_USAGES.has(u));
  if (badKeyUsages.length) {
    throw new TrustdError(400, `CSR requests key usage ${badKeyUsages.join(', ')}; trustd signs server certificates only (digitalSignature, keyEncipherment): drop them`);
  }
  const badExtKeyUsages = [...(asked.extKeyUsage ?? []).filter((u) => u !== 'serverAuth'), ...(asked.otherExtKeyUsages ?? []).map((o) => EKU_NAMES[o] ?? o)];
  if (badExtKeyUsages.length) {
    throw new TrustdError(400, `CSR requests extended key usage ${badExtKeyUsages.join(', ')}; trustd signs serverAuth certificates only: drop them`);
  }
}
