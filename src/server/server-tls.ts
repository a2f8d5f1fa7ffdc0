// The TLS options apid and trustd serve with. Both ask for the client's certificate and judge it themselves, so each
// failed check gets its own answer (apid: client-verification.ts; trustd: the call's requester), and the TLS stack is
// given no CA to trust. Given none, Node would trust its ~140 bundled public roots in each context, and parse them all
// for the first one: ~22 ms of CPU at every start of a node, for a trust nothing here uses.
import type { ServerOptions } from 'node:https';
import { timeoutServerOptions } from './connection-timeouts.js';
import type { ConnectionTimeouts } from './connection-timeouts.js';

const TRUST_NO_CA = { ca: [] as string[] };

/** For https.createServer: the context a server starts with, until its certificate is installed. */
export function mtlsServerOptions(timeouts: ConnectionTimeouts): ServerOptions {
  return { minVersion: 'TLSv1.2', requestCert: true, rejectUnauthorized: false, ...TRUST_NO_CA, ...timeoutServerOptions(timeouts) };
}

/** For server.setSecureContext: a serving certificate (chain) and its key. */
export function servingContextOptions(tls: { cert: string; key: string }): { cert: string; key: string; minVersion: 'TLSv1.2'; ca: string[] } {
  return { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2', ...TRUST_NO_CA };
}
