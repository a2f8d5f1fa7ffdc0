// Who a kubelet CSR comes from. A node that holds a kubelet client certificate presents it (renewal): it must chain to
// an accepted Kubernetes CA for clientAuth at the node's clock and name CN=system:node:<node>, O=system:nodes, and the
// node is that one, whatever the body claims. A node without one (first join) sends the cluster's bootstrap token
// (cluster.token, Kubernetes' `abcdef.0123456789abcdef` form), compared in constant time, and names itself.
import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { KUBELET_NODE_PREFIX, KUBELET_NODES_GROUP } from '../../controllers/kubelet-certificate-controller.js';
import { hostnameProblem } from '../../config/subject-alt-name.js';
import { inspectCertificate, verifyChain } from '../../pki/index.js';
import { peerCertificate } from './peer-certificate.js';
import { checkBearerToken } from './token-check.js';
import type { TokenDigest } from './token-check.js';
import { TrustdError } from './trustd-error.js';

export const BOOTSTRAP_TOKEN_FORMAT = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;

export interface KubeletRequester {
  node: string;
  auth: 'token' | 'certificate';
}

export function kubeletRequester(req: IncomingMessage, accepted: readonly X509Certificate[], bootstrapToken: TokenDigest | undefined, claimed: string | undefined, now: Date): KubeletRequester {
  const peer = peerCertificate(req);
  if (peer) return { node: certificateNode(peer, accepted, now), auth: 'certificate' };
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
  if (match && !BOOTSTRAP_TOKEN_FORMAT.test(match[1])) {
    throw new TrustdError(401, 'invalid token: a kubelet CSR takes the cluster bootstrap token (cluster.token, in the form abcdef.0123456789abcdef)');
  }
  if (!match) throw new TrustdError(401, 'missing token: send the cluster bootstrap token (cluster.token) or present the kubelet client certificate to renew');
  checkBearerToken(req.headers.authorization, bootstrapToken);
  if (claimed === undefined) throw new TrustdError(400, 'request body: "node" is required with the bootstrap token: the node name the kubelet registers as');
  const problem = hostnameProblem(claimed);
  if (problem) throw new TrustdError(400, `request body: "node" ${problem}`);
  return { node: claimed, auth: 'token' };
}

function certificateNode(peer: X509Certificate, accepted: readonly X509Certificate[], now: Date): string {
  const chain = verifyChain(peer, accepted, { at: now, purpose: 'clientAuth' });
  if (!chain.ok) {
    throw new TrustdError(401, `the kubelet client certificate presented is not accepted: ${chain.message}; a node whose certificate has run out joins again with the bootstrap token`);
  }
  const { subject } = inspectCertificate(peer);
  if (!subject.commonName.startsWith(KUBELET_NODE_PREFIX) || !subject.organizations.includes(KUBELET_NODES_GROUP)) {
    throw new TrustdError(401, `the client certificate presented (CN=${subject.commonName}) is not a kubelet's: it must be CN=${KUBELET_NODE_PREFIX}<node>, O=${KUBELET_NODES_GROUP}`);
  }
  return subject.commonName.slice(KUBELET_NODE_PREFIX.length);
}
