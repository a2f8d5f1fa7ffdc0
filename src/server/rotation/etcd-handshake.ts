// Whether a running etcd member trusts a client certificate, judged by etcd itself: one TLS 1.2 handshake with its
// client URL. Under TLS 1.2 the member judges the client certificate inside the handshake, so a completed handshake is
// its acceptance and an alert its refusal, with no request to make. (Under TLS 1.3 the verdict would come after.)
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { ETCD_CLIENT_PORT, parseNodeAddress } from '../apid/node-address.js';
import type { TlsPair } from '../apid/tls-material.js';
import { serverNameFor } from '../../pki/index.js';

export interface EtcdHandshake {
  /** The member's certificate, when the handshake completed: it accepted ours. */
  served?: X509Certificate;
  /** Why it did not complete: the member's alert, our refusal of its certificate, or the connection's failure. */
  error?: string;
  /** The member answered our certificate with an alert: it does not trust it. */
  refused: boolean;
}

/** Real time allowed for one handshake. */
const HANDSHAKE_TIMEOUT_MS = 5_000;

/** One handshake with the etcd member at `endpoint` (host[:port]) as `client`, checking its certificate against `trusted`. */
export function etcdHandshake(endpoint: string, client: TlsPair, trusted: string[]): Promise<EtcdHandshake> {
  const { host, port } = parseNodeAddress(endpoint, ETCD_CLIENT_PORT);
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, ...client, ca: trusted, maxVersion: 'TLSv1.2', timeout: HANDSHAKE_TIMEOUT_MS, ...serverNameFor(host) });
    socket.once('secureConnect', () => {
      const served = new X509Certificate(socket.getPeerCertificate().raw);
      socket.destroy();
      resolve({ served, refused: false });
    });
    socket.once('timeout', () => socket.destroy(new Error(`no TLS handshake within ${HANDSHAKE_TIMEOUT_MS} ms`)));
    // OpenSSL names a received alert "...:sslv3 alert bad certificate:..." (or "unknown ca", "certificate required")
    socket.once('error', (err) => {
      const alert = /\balert ([a-z ]+)/.exec(err.message);
      resolve(alert ? { error: `the member answered with the TLS alert "${alert[1].trim()}"`, refused: true } : { error: err.message.trim(), refused: false });
    });
  });
}
