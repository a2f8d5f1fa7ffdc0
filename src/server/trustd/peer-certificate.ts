// The client certificate a trustd caller presented in the handshake, if any. trustd asks for one and never requires it
// (a first join authenticates with a token), so the TLS stack accepts anything and the endpoint that uses the
// certificate judges it: a kubelet's for its kubelet CSR (kubelet-requester.ts), a node's apid certificate for its
// renewal and the revocation list (node-certificate-auth.ts).
import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';

export function peerCertificate(req: IncomingMessage): X509Certificate | undefined {
  return req.socket instanceof TLSSocket ? req.socket.getPeerX509Certificate() : undefined;
}
