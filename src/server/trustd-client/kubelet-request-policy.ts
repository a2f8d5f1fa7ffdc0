// Whether a worker must ask trustd for a kubelet certificate again, and why, in cert-manager's vocabulary (the reason
// travels to KubeletCertificates and CertificateStatus).
import { parseCertificate } from '../../controllers/certificate-cache.js';
import { chain, check } from '../../controllers/policy/policy-chain.js';
import type { Verdict } from '../../controllers/policy/policy-chain.js';
import { requestDifferences } from '../../controllers/policy/same-request.js';
import { isIssuedBy } from '../../pki/index.js';
import type { CertificateRequest, IssueReason } from '../../resources/common.js';
import type { KubeletAnswer } from '../../resources/kubelet-response.js';

export interface KubeletRequestInput {
  answer: KubeletAnswer | undefined;
  wanted: CertificateRequest;
  /** The Kubernetes CAs the worker accepts (cluster.ca.crt and cluster.acceptedCAs). */
  acceptedCAs: readonly string[];
  now: Date;
}

const policy = chain<KubeletRequestInput, IssueReason>(
  check('DoesNotExist', (i) => !i.answer && 'no kubelet certificate from trustd yet'),
  check('RequestChanged', (i) => requestDifferences(i.answer!.request, i.wanted).join(', ')),
  check('IncorrectIssuer', (i) => {
    const cert = parseCertificate(i.answer!.crt);
    return !i.acceptedCAs.some((ca) => isIssuedBy(cert, parseCertificate(ca))) && 'issued by a Kubernetes CA that is no longer accepted';
  }),
  check('Expired', (i) => Date.parse(parseCertificate(i.answer!.crt).validTo) <= i.now.getTime() && 'expired'),
  check('Renewing', (i) => Date.parse(i.answer!.renewAt) <= i.now.getTime() && `renewal time ${i.answer!.renewAt} reached`),
);

/** undefined: the held answer stands until its renewal time. */
export function kubeletRequestVerdict(input: KubeletRequestInput): Verdict<IssueReason> | undefined {
  return policy(input);
}
