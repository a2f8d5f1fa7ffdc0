// One real mutual-TLS handshake on 127.0.0.1, the way two etcd members (or kube-apiserver and an aggregated API server)
// meet: the server requires a client certificate chaining to its trust bundle, the client checks the server's against
// its own (or, with no bundle, does not check it). Node's TLS (OpenSSL) judges, not our chain code.
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';

export interface TlsSide {
  cert: string;
  key: string;
  /** PEM CA certificates this side trusts for the other side's certificate; undefined: the server's is not checked. */
  ca?: string[];
}

/** undefined when both sides accept each other; else the first side's refusal. */
export async function mutualHandshake(server: TlsSide & { ca: string[] }, client: TlsSide): Promise<string | undefined> {
  let serverError: string | undefined;
  const listener = tls.createServer({ cert: server.cert, key: server.key, ca: server.ca, requestCert: true, rejectUnauthorized: true }, (socket) => socket.end());
  listener.on('tlsClientError', (err) => (serverError = `server refused the client certificate: ${err.message}`));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  try {
    const clientError = await new Promise<string | undefined>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, cert: client.cert, key: client.key, ...(client.ca ? { ca: client.ca } : { rejectUnauthorized: false }) });
      socket.on('secureConnect', () => socket.once('end', () => resolve(undefined)).resume());
      socket.on('error', (err) => resolve(err.message));
    });
    // A refused client certificate shows on the client as a reset or an alert; the server's reason is the clearer one.
    return serverError ?? (clientError === undefined ? undefined : `client: ${clientError}`);
  } finally {
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
}
