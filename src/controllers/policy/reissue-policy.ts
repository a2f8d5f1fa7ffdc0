// Whether a held certificate must be (re-)issued, and why. The first check that fires decides.
import type { X509Certificate } from 'node:crypto';
import type { SigningCA } from '../../pki/index.js';
import { parsePrivateKeyPem, samePublicKey } from '../../pki/index.js';
import type { CertificateRequest, IssuedCertificate, IssueReason } from '../../resources/common.js';
import { boundedCache, issuedByCached, parseCertificate } from '../certificate-cache.js';
import { chain, check } from './policy-chain.js';
import type { Verdict } from './policy-chain.js';
import { requestDifferences } from './same-request.js';

export interface ReissueInput {
  current: IssuedCertificate | undefined;
  wanted: CertificateRequest;
  issuer: SigningCA;
  now: Date;
}

interface Parsed extends ReissueInput {
  cert?: X509Certificate;
  parseError?: string;
}

function parse(input: ReissueInput): Parsed {
  if (!input.current) return input;
  try {
    return { ...input, cert: parseCertificate(input.current.crt) };
  } catch (err) {
    return { ...input, parseError: err instanceof Error ? err.message : String(err) };
  }
}

// The same held pair is checked on every reconcile; the verdict depends only on the PEM text.
const pairVerdicts = boundedCache<string | undefined>();

const keyMismatch = (p: Parsed): string | undefined => {
  const { crt, key } = p.current!;
  return pairVerdicts(`${crt}\u0000${key}`, () => {
    try {
      const matches = samePublicKey(parseCertificate(crt).publicKey, parsePrivateKeyPem(key).publicKey);
      return matches ? undefined : 'the private key does not match the certificate';
    } catch (err) {
      return `the private key cannot be read: ${err instanceof Error ? err.message : String(err)}`;
    }
  });
};

/**
 * A pair this node has just issued: the certificate was signed over that key's public half, so there is nothing for
 * the check to find, and reading the key back costs more than the signature did. A stored pair whose text differs in
 * any byte (a key put in from outside) is still read and compared.
 */
export function rememberIssuedPair(crt: string, key: string): void {
  pairVerdicts(`${crt}\u0000${key}`, () => undefined);
}

const policy = chain<Parsed, IssueReason>(
  check('DoesNotExist', (p) => !p.current && 'no certificate yet'),
  check('Invalid', (p) => p.parseError && `the stored certificate cannot be parsed: ${p.parseError}`),
  check('SecretMismatch', keyMismatch),
  check('IncorrectIssuer', (p) => !issuedByCached(p.current!.crt, p.issuer.certPem) && 'issued by another CA than the current issuing CA'),
  check('RequestChanged', (p) => requestDifferences(p.current!.request, p.wanted).join(', ')),
  check('Expired', (p) => Date.parse(p.cert!.validTo) <= p.now.getTime() && `expired at ${new Date(p.cert!.validTo).toISOString()}`),
  check('Renewing', (p) => Date.parse(p.current!.renewAt) <= p.now.getTime() && `renewal time ${p.current!.renewAt} reached`),
);

/** undefined: keep the current certificate. */
export function reissueVerdict(input: ReissueInput): Verdict<IssueReason> | undefined {
  return policy(parse(input));
}
