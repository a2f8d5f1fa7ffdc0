// POST /v1/kubelet-csr on trustd: a kubelet client or serving CSR, authenticated by the bootstrap token (first join)
// or the node's kubelet client certificate (renewal), judged by Kubernetes' kubelet CSR rules, signed by the control
// plane's Kubernetes CA. Body `{"kind": "client" | "server", "csr": "<PEM>", "node": "<name>"}` (node with the token
// only); answer `{"crt": "<PEM>", "ca": "<Kubernetes CA bundle>"}`.
import type { IncomingMessage } from 'node:http';
import { issueCertificate, PkiError } from '../../pki/index.js';
import type { IssuedCertificate, ParsedCsr } from '../../pki/index.js';
import { KUBELET_NODES_GROUP } from '../../controllers/kubelet-certificate-controller.js';
import { KUBELET_KINDS } from '../../resources/kubelet-response.js';
import type { KubeletKind } from '../../resources/kubelet-response.js';
import { kubeletCsrRefusal } from './kubelet-csr-rules.js';
import { kubeletRequester } from './kubelet-requester.js';
import type { KubeletRequester } from './kubelet-requester.js';
import { readJsonRequest } from './read-request.js';
import { parseCsrOr400 } from './sign-csr.js';
import type { KubeletSigningMaterial } from './trustd-material.js';
import { TrustdError } from './trustd-error.js';

export const KUBELET_CSR_PATH = '/v1/kubelet-csr';
/** Kubernetes' default for certificates its CSR signer issues (--cluster-signing-duration): one year. */
export const DEFAULT_KUBELET_VALIDITY_HOURS = 8760;
const EXPECTED = 'expected JSON {"kind": "client" | "server", "csr": "<PEM certificate request>", "node": "<node name, with the bootstrap token>"}';

export interface KubeletCsrSigned {
  issued: IssuedCertificate;
  csr: ParsedCsr;
  kind: KubeletKind;
  requester: KubeletRequester;
  /** The Kubernetes CAs a kubelet should trust, as trustd answers them. */
  caBundle: string;
}

export async function signKubeletCsr(req: IncomingMessage, signing: KubeletSigningMaterial | undefined, now: Date, validityHours = DEFAULT_KUBELET_VALIDITY_HOURS): Promise<KubeletCsrSigned> {
  if (!signing) throw new TrustdError(503, 'trustd cannot sign kubelet CSRs: this node holds no Kubernetes CA (ask a control-plane node)');
  const body = await readJsonRequest(req, EXPECTED);
  const kind = KUBELET_KINDS.find((k) => k === body.kind);
  if (!kind) throw new TrustdError(400, `request body: "kind" must be "client" or "server", got ${JSON.stringify(body.kind)}: ${EXPECTED}`);
  if (typeof body.csr !== 'string' || !body.csr) throw new TrustdError(400, `request body: "csr" is required: ${EXPECTED}`);
  const claimed = typeof body.node === 'string' ? body.node : undefined;
  const requester = kubeletRequester(req, signing.accepted, signing.bootstrapToken, claimed, now);
  const csr = parseCsrOr400(body.csr);
  const sourceAddress = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  const refusal = kubeletCsrRefusal({ kind, csr, node: requester.node, sourceAddress });
  if (refusal) throw new TrustdError(403, refusal);
  try {
    const issued = issueCertificate(signing.ca, kind === 'client' ? 'kubelet' : 'kubelet-server', {
      publicKey: csr.publicKey,
      now,
      validityHours,
      commonName: csr.commonName,
      organizations: [KUBELET_NODES_GROUP],
      dnsNames: csr.dnsNames,
      ipAddresses: csr.ipAddresses,
    });
    return { issued, csr, kind, requester, caBundle: signing.caBundle };
  } catch (err) {
    if (err instanceof PkiError) throw new TrustdError(400, `failed to sign CSR: ${err.message}`);
    throw err;
  }
}
