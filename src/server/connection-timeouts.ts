// Time limits for the connections of apid and trustd, so that clients that connect and then stall (slowloris) cannot
// hold sockets and memory for ever: a TLS handshake must finish, a connection must send its first request, its headers
// and its whole request within a bound, and a kept-alive connection is closed when idle. A response may take as long
// as it needs: a watch stream stays open while it is quiet.
import type { Server } from 'node:https';

export interface ConnectionTimeouts {
  /** TLS handshake (ms). */
  handshakeMs: number;
  /** From the handshake to the first request, with no byte received meanwhile (ms). */
  idleMs: number;
  /** A request's headers, from its first byte (ms). */
  headersMs: number;
  /** A whole request, body included (ms). */
  requestMs: number;
  /** A kept-alive connection between requests (ms). */
  keepAliveMs: number;
}

export const DEFAULT_CONNECTION_TIMEOUTS: Readonly<ConnectionTimeouts> = { handshakeMs: 10_000, idleMs: 30_000, headersMs: 20_000, requestMs: 60_000, keepAliveMs: 5_000 };

/** What https.createServer takes; the rest is set on the server by applyConnectionTimeouts. */
export function timeoutServerOptions(t: ConnectionTimeouts): { handshakeTimeout: number; connectionsCheckingInterval: number } {
  // Node checks the header and request deadlines on an interval: a tenth of the shortest keeps them near their values.
  return { handshakeTimeout: t.handshakeMs, connectionsCheckingInterval: Math.max(10, Math.min(t.headersMs, t.requestMs) / 10) };
}

export function connectionTimeouts(given: Partial<ConnectionTimeouts> = {}): ConnectionTimeouts {
  const t = { ...DEFAULT_CONNECTION_TIMEOUTS, ...given };
  for (const [name, value] of Object.entries(t)) if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`connection timeout ${name}: expected a positive number of milliseconds, got ${value}`);
  if (t.headersMs > t.requestMs) throw new RangeError(`connection timeouts: headersMs (${t.headersMs}) must not exceed requestMs (${t.requestMs})`);
  return t;
}

export function applyConnectionTimeouts(server: Server, t: ConnectionTimeouts): void {
  server.headersTimeout = t.headersMs;
  server.requestTimeout = t.requestMs;
  server.keepAliveTimeout = t.keepAliveMs;
  // Until its first request, a connection is idle; once a request arrives Node's own timers take over (headers, request,
  // keep-alive), and a long response (a watch) is never cut for being quiet.
  server.on('secureConnection', (socket) => {
    socket.setTimeout(t.idleMs, () => socket.destroy());
  });
  server.on('request', (req) => {
    req.socket.setTimeout(0);
  });
}
