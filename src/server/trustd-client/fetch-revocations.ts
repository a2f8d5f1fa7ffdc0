// One long poll of trustd's GET /v1/revocations over a verified connection: the revocations and their etag, or
// undefined when nothing changed (304) within trustd's wait.
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { RevocationsAnswer } from '../trustd/revocations-endpoint.js';
import { REVOCATIONS_PATH } from '../trustd/revocations-endpoint.js';
import { readAll, verifiedConnection } from './post-csr.js';
import type { TrustdConnectionOptions } from './post-csr.js';

export interface FetchRevocationsOptions extends TrustdConnectionOptions {
  /** The machine token; left out when the request authenticates with `clientCertificate` (the node's apid certificate). */
  token?: string;
  /** The etag of the list held: trustd answers when it differs. */
  etag: string;
  /** Handed the socket once connected, so a closing follower can cut a poll short. */
  onSocket?: (socket: TLSSocket) => void;
}

export async function fetchRevocations(o: FetchRevocationsOptions): Promise<RevocationsAnswer | undefined> {
  const socket = await verifiedConnection(o);
  o.onSocket?.(socket);
  try {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({
        createConnection: () => socket,
        method: 'GET',
        path: REVOCATIONS_PATH,
        headers: { Host: o.endpoint.host, ...(o.token ? { Authorization: `Bearer ${o.token}` } : {}), ...(o.etag ? { 'If-None-Match': `"${o.etag}"` } : {}), Connection: 'close' },
      });
      req.on('response', resolve);
      req.on('error', reject);
      req.end();
    });
    const text = await readAll(res);
    if (res.statusCode === 304) return undefined;
    if (res.statusCode !== 200) throw new Error(`trustd answered ${res.statusCode} to ${REVOCATIONS_PATH}: ${errorOf(text)}`);
    const answer = JSON.parse(text) as Partial<RevocationsAnswer>;
    if (typeof answer.etag !== 'string' || !Array.isArray(answer.revocations)) throw new Error(`trustd answered ${REVOCATIONS_PATH} without "etag" and "revocations"`);
    return { etag: answer.etag, revocations: answer.revocations };
  } finally {
    socket.destroy();
  }
}

function errorOf(text: string): string {
  try {
    const e = (JSON.parse(text) as { error?: unknown }).error;
    return typeof e === 'string' ? e : 'no error message';
  } catch {
    return 'a body that is not JSON';
  }
}
