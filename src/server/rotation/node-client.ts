// The rotation driver's view of another node's apid: one JSON call per fresh TLS connection (no keep-alive), so each
// call is judged by the node's accepted CAs as they are now, exactly as a new talosctl connection would be.
import https from 'node:https';
import { createSecureContext } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { boundedCache } from '../../controllers/certificate-cache.js';
import { parseNodeAddress } from '../apid/node-address.js';
import { serverNameFor } from '../../pki/index.js';

/** A client certificate and key (PKCS#8) plus the CA bundle the server's certificate must chain to. */
export interface NodeCredentials {
  ca: string;
  cert: string;
  key: string;
}

export interface NodeAnswer {
  status: number;
  /** The server's `error` for a refusal, or the connection failure; undefined when the call succeeded. */
  error?: string;
  body?: unknown;
}

/** Real time allowed for one call (connect, TLS, answer). */
const CALL_TIMEOUT_MS = 10_000;

// Loading a key and a CA bundle into a TLS context cost more than the handshake (a third of a rotation's CPU): one
// context per credentials, reused by every fresh connection made with them.
const contexts = boundedCache<SecureContext>(64);

export function callNode(address: string, creds: NodeCredentials, method: string, path: string, body?: unknown): Promise<NodeAnswer> {
  const { host, port } = parseNodeAddress(address);
  const text = body === undefined ? undefined : JSON.stringify(body);
  let secureContext: SecureContext;
  try {
    const { ca, cert, key } = creds;
    secureContext = contexts(`${ca}\u0000${cert}\u0000${key}`, () => createSecureContext({ ca, cert, key }));
  } catch (err) {
    // As a connection failure, like the same credentials given to https.request straight away.
    return Promise.resolve({ status: 0, error: err instanceof Error ? err.message : String(err) });
  }
  // https passes secureContext on to tls.connect; its RequestOptions type does not name it.
  const options: https.RequestOptions & { secureContext: SecureContext } = {
    host,
    port,
    method,
    path,
    agent: false,
    secureContext,
    timeout: CALL_TIMEOUT_MS,
    ...serverNameFor(host),
    headers: text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {},
  };
  return new Promise((resolve) => {
    const req = https.request(
      options,
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const parsed = parse(data);
          if (status >= 200 && status < 300) resolve({ status, body: parsed });
          else resolve({ status, error: errorOf(parsed) ?? (data.trim() || `HTTP ${status}`) });
        });
        res.on('error', (err) => resolve({ status: 0, error: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${CALL_TIMEOUT_MS} ms`)));
    req.on('error', (err) => resolve({ status: 0, error: err.message }));
    req.end(text);
  });
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorOf(body: unknown): string | undefined {
  const e = body && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  return typeof e === 'string' ? e : undefined;
}
