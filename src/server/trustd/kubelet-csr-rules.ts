// Whether a kubelet CSR may be signed, by the rules Kubernetes applies to kubelet CSRs (the kube-controller-manager
// CSR approver's node-client checks and the node authorizer's limits on what a node may ask for):
//   client  (kubernetes.io/kube-apiserver-client-kubelet): subject exactly CN=system:node:<requester>, O=system:nodes;
//           no subject alternative names; usages within digitalSignature, keyEncipherment, clientAuth.
//   serving (kubernetes.io/kubelet-serving): the same subject; DNS names only the node's own name and IP addresses only
//           the node's own address; usages within digitalSignature, keyEncipherment, serverAuth.
// Neither may ask for a CA. We have no Node objects to read a node's addresses from (kube-apiserver does), so the node's
// address is the one its request comes from. The first rule that fails is the answer, and it names itself.
import { chain, check } from '../../controllers/policy/policy-chain.js';
import { KUBELET_NODE_PREFIX, KUBELET_NODES_GROUP } from '../../controllers/kubelet-certificate-controller.js';
import type { ParsedCsr } from '../../pki/index.js';
import type { KubeletKind } from '../../resources/kubelet-response.js';

export interface KubeletCsrInput {
  kind: KubeletKind;
  csr: ParsedCsr;
  /** The node the request is authenticated as (the bootstrap token's claimed name, or the client certificate's CN). */
  node: string;
  /** The address the request came from: the only IP a serving certificate may name. */
  sourceAddress: string;
}

type Rule = 'no-ca' | 'subject-common-name' | 'subject-organization' | 'client-no-names' | 'serving-dns-names' | 'serving-ip-addresses' | 'serving-needs-a-name' | 'key-usages' | 'extended-key-usages' | 'critical-extensions';

const KEY_USAGES = new Set(['digitalSignature', 'keyEncipherment']);
const EKU: Record<KubeletKind, string> = { client: 'clientAuth', server: 'serverAuth' };

const list = (items: readonly string[]) => (items.length ? items.join(', ') : '(none)');

const rules = chain<KubeletCsrInput, Rule>(
  check('critical-extensions', (i) => !!i.csr.requestedExtensions.unhandledCritical?.length && `extensions ${list(i.csr.requestedExtensions.unhandledCritical ?? [])} are marked critical`),
  check('no-ca', (i) => i.csr.requestedExtensions.isCA === true && 'a kubelet certificate may not be a CA (basicConstraints CA:TRUE requested)'),
  check('subject-common-name', (i) => i.csr.commonName !== `${KUBELET_NODE_PREFIX}${i.node}` && `CN must be exactly ${KUBELET_NODE_PREFIX}${i.node} (the requesting node), got ${JSON.stringify(i.csr.commonName)}`),
  check(
    'subject-organization',
    (i) => (i.csr.organizations.length !== 1 || i.csr.organizations[0] !== KUBELET_NODES_GROUP) && `O must be exactly ${KUBELET_NODES_GROUP} and nothing else, got ${list(i.csr.organizations)}`,
  ),
  check('client-no-names', (i) => {
    const names = [...i.csr.dnsNames, ...i.csr.ipAddresses, ...(i.csr.requestedExtensions.otherSubjectAltNames ?? [])];
    return i.kind === 'client' && names.length > 0 && `a kubelet client certificate carries no subject alternative names, got ${list(names)}`;
  }),
  check('serving-dns-names', (i) => {
    const others = [...i.csr.dnsNames.filter((d) => d.toLowerCase() !== i.node.toLowerCase()), ...(i.csr.requestedExtensions.otherSubjectAltNames ?? [])];
    return i.kind === 'server' && others.length > 0 && `a serving certificate may name only the node itself (${i.node}), not ${list(others)}`;
  }),
  check('serving-ip-addresses', (i) => {
    const others = i.csr.ipAddresses.filter((ip) => ip !== i.sourceAddress);
    return i.kind === 'server' && others.length > 0 && `a serving certificate may carry only the node's own address (${i.sourceAddress}, where the request came from), not ${list(others)}`;
  }),
  check('serving-needs-a-name', (i) => i.kind === 'server' && i.csr.dnsNames.length + i.csr.ipAddresses.length === 0 && 'a serving certificate needs the node name or address'),
  check('key-usages', (i) => {
    const bad = (i.csr.requestedExtensions.keyUsage ?? []).filter((u) => !KEY_USAGES.has(u));
    return bad.length > 0 && `only digitalSignature and keyEncipherment, not ${list(bad)}`;
  }),
  check('extended-key-usages', (i) => {
    const bad = [...(i.csr.requestedExtensions.extKeyUsage ?? []).filter((u) => u !== EKU[i.kind]), ...(i.csr.requestedExtensions.otherExtKeyUsages ?? [])];
    return bad.length > 0 && `a kubelet ${i.kind} certificate is for ${EKU[i.kind]} only, not ${list(bad)}`;
  }),
);

/** The refusal (`rule subject-organization: O must be exactly system:nodes ...`), or undefined to sign. */
export function kubeletCsrRefusal(input: KubeletCsrInput): string | undefined {
  const verdict = rules(input);
  return verdict && `kubelet ${input.kind} CSR refused by rule ${verdict.reason}: ${verdict.message}`;
}
