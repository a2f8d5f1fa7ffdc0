// Whether the worker must ask trustd for a new apid certificate, and why: the first check that fires decides, in
// cert-manager's vocabulary, so the reason travels to ApiCertificates and CertificateStatus.
import { parseCertificate } from '../../controllers/certificate-cache.js';
import { chain, check } from '../../controllers/policy/policy-chain.js';
import type { Verdict } from '../../controllers/policy/policy-chain.js';
import { isIssuedBy } from '../../pki/index.js';
import type { CertSANsSpec } from '../../resources/cert-sans.js';
import type { IssueReason } from '../../resources/common.js';
import type { TrustdResponse } from '../../resources/trustd-response.js';

export interface RequestInput {
  response: TrustdResponse | undefined;
  sans: CertSANsSpec;
  acceptedCAs: readonly string[];
  /** The worker's issuing CA (machine.ca.crt) and when its root secrets last changed: a CA rotation swaps it. */
  issuingCA?: { crt: string; since: string };
  now: Date;
}

const names = (s: CertSANsSpec) => [...new Set([...s.ips, ...s.dnsNames])].sort().join(',');

const policy = chain<RequestInput, IssueReason>(
  check('DoesNotExist', (i) => !i.response && 'no certificate from trustd yet'),
  check('RequestChanged', (i) => names(i.response!.sans) !== names(i.sans) && `SANs changed: ${names(i.response!.sans)} -> ${names(i.sans)}`),
  check('IncorrectIssuer', (i) => {
    const cert = parseCertificate(i.response!.crt);
    return !i.acceptedCAs.some((ca) => isIssuedBy(cert, parseCertificate(ca))) && 'issued by a CA that is no longer accepted';
  }),
  // After a CA rotation made a new CA issuing, a certificate from the old one (still accepted) is asked for again once;
  // comparing with the request time keeps a control plane that still signs with another CA from causing a loop.
  check('IncorrectIssuer', (i) => {
    if (!i.issuingCA || Date.parse(i.response!.requestedAt) >= Date.parse(i.issuingCA.since)) return false;
    return !isIssuedBy(parseCertificate(i.response!.crt), parseCertificate(i.issuingCA.crt)) && 'issued by a CA other than the issuing CA (the CA was rotated)';
  }),
  check('Expired', (i) => Date.parse(parseCertificate(i.response!.crt).validTo) <= i.now.getTime() && 'expired'),
  check('Renewing', (i) => Date.parse(i.response!.renewAt) <= i.now.getTime() && `renewal time ${i.response!.renewAt} reached`),
);

/** undefined: the held answer stands until its renewal time. */
export function requestVerdict(input: RequestInput): Verdict<IssueReason> | undefined {
  return policy(input);
}
