// One request to trustd over HTTPS. trustd's certificate is checked by us, not by the TLS stack: it must chain to an
// accepted OS CA for serverAuth at the node's clock (the same clock every other certificate decision uses) and name
// the host we dialled; the token is sent only after that check passes.
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { ipFamily, serverNameFor, verifyChain } from '../../pki/index.js';
import { CERTIFICATE_PATH } from '../trustd/trustd-server.js';
import type { HostPort } from './trustd-endpoints.js';

export interface PostCsrOptions {
  endpoint: HostPort;
  csr: string;
  /** The bearer token; left out when the request authenticates with `clientCertificate` instead. */
  token?: string;
  /** trustd path: the apid certificate (default) or /v1/kubelet-csr. */
  path?: string;
  /** Other body fields sent beside `csr` (the kubelet CSR's kind and node name). */
  fields?: Record<string, string>;
  /** A client certificate (PEM pair, PKCS#8 key) presented in the handshake: a kubelet renewing with its own. */
  clientCertificate?: { crt: string; key: string };
  /** The local address to send from (the node's own, when it is local: see source-address.ts). */
  localAddress?: string;
  /** Accepted OS CAs: trustd's certificate must be issued by one of them. */
  trusted: readonly X509Certificate[];
  at: Date;
  timeoutMs: number;
}

export interface TrustdAnswer {
  crt: string;
  ca: string;
}

export async function postCsr(o: PostCsrOptions): Promise<TrustdAnswer> {
  const socket = await verifiedConnection(o);
  const body = JSON.stringify({ ...o.fields, csr: o.csr });
  const auth: Record<string, string> = o.token ? { Authorization: `Bearer ${o.token}` } : {};
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request({
      createConnection: () => socket,
      method: 'POST',
      path: o.path ?? CERTIFICATE_PATH,
      headers: { Host: o.endpoint.host, ...auth, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' },
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end(body);
  });
  const text = await readAll(res);
  socket.destroy();
  let answer: Record<string, unknown>;
  try {
    answer = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`trustd answered ${res.statusCode} with a body that is not JSON`);
  }
  if (res.statusCode !== 200) throw new Error(`trustd answered ${res.statusCode}: ${typeof answer.error === 'string' ? answer.error : 'no error message'}`);
  if (typeof answer.crt !== 'string' || typeof answer.ca !== 'string') throw new Error('trustd answered 200 without "crt" and "ca"');
  return { crt: answer.crt, ca: answer.ca };
}

/** What a verified connection to trustd needs: where, the CAs its certificate must chain to, when, how long to wait. */
export type TrustdConnectionOptions = Pick<PostCsrOptions, 'endpoint' | 'trusted' | 'at' | 'timeoutMs' | 'clientCertificate' | 'localAddress'>;

/** A TLS connection to trustd whose certificate we checked (chain, serverAuth, the host dialled) before anything is sent. */
export function verifiedConnection(o: TrustdConnectionOptions): Promise<TLSSocket> {
  const { host, port } = o.endpoint;
  return new Promise((resolve, reject) => {
    const identity = o.clientCertificate ? { cert: o.clientCertificate.crt, key: o.clientCertificate.key } : {};
    const source = o.localAddress !== undefined && ipFamily(o.localAddress) === ipFamily(host) ? { localAddress: o.localAddress } : {};
    const socket = connect({ host, port, ...serverNameFor(host), ...identity, ...source, rejectUnauthorized: false, minVersion: 'TLSv1.2' });
    socket.setTimeout(o.timeoutMs, () => socket.destroy(new Error(`no answer within ${Math.round(o.timeoutMs / 1000)}s`)));
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const problem = trustProblem(socket, host, o);
      if (problem) {
        socket.destroy();
        reject(new Error(problem));
        return;
      }
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

function trustProblem(socket: TLSSocket, host: string, o: TrustdConnectionOptions): string | undefined {
  const peer = socket.getPeerX509Certificate();
  if (!peer) return 'trustd presented no certificate';
  const chain = verifyChain(peer, o.trusted, { at: o.at, purpose: 'serverAuth' });
  if (!chain.ok) {
    // The usual cause: the cluster's OS CA was rotated and this node's config came from a bundle that predates it.
    const stale = chain.reason === 'UnknownAuthority' ? ": machine.ca and machine.acceptedCAs of this node's config do not include the cluster's OS CA (was the config made from a secrets bundle older than the last rotate-ca? regenerate it from the current bundle)" : '';
    return `trustd's certificate is not trusted: ${chain.message}${stale}`;
  }
  const named = ipFamily(host) ? peer.checkIP(host) : peer.checkHost(host, { subject: 'never' });
  return named ? undefined : `trustd's certificate does not name ${host} (it names ${peer.subjectAltName ?? 'nothing'})`;
}

export async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
