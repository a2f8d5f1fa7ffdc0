// trustd: HTTPS, server-authenticated only. `POST /v1/certificate` with `Authorization: Bearer <token>` and
// `{"csr": "<PEM>"}` answers `{"crt": "<PEM>", "ca": "<PEM bundle>"}`; a refusal is `{"error": "<message>"}` with its
// status (400 bad request, 401 token, 429 rate limit), so curl and scripts can use it as they would upstream's.
import { createServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../runtime/clock.js';
import { systemClock } from '../../runtime/clock.js';
import type { RuntimeLogger } from '../../runtime/runtime-context.js';
import type { State } from '../../runtime/state.js';
import { DEFAULT_RATE_LIMIT, RateLimiter } from '../rate-limit.js';
import type { RateLimitOptions } from '../rate-limit.js';
import { applyConnectionTimeouts, connectionTimeouts, timeoutServerOptions } from '../connection-timeouts.js';
import type { ConnectionTimeouts } from '../connection-timeouts.js';
import { RefusalLog } from '../refusal-log.js';
import { RefusalAudit } from '../refusal-audit.js';
import { certificateDetails, noAudit, tokenFingerprint } from '../../controllers/audit/index.js';
import type { AuditSink } from '../../controllers/audit/index.js';
import { readCsrRequest } from './read-request.js';
import { signCsr } from './sign-csr.js';
import { checkBearerToken } from './token-check.js';
import { TrustdError } from './trustd-error.js';
import { TrustdMaterial } from './trustd-material.js';

export const TRUSTD_PORT = 50001;
export const CERTIFICATE_PATH = '/v1/certificate';
/** Refusals of who asks (a CSR refused, a bad or missing token, a token's binding): not routing or rate-limit noise. */
const AUDITED_REFUSALS: ReadonlySet<number> = new Set([400, 401, 403]);

export interface TrustdOptions {
  state: State;
  host: string;
  /** 0 picks a free port; the answer says which. */
  port: number;
  clock?: Clock;
  /** Per-source-address token bucket; false turns it off. Default 5/s, burst 20. */
  rateLimit?: RateLimitOptions | false;
  /** Handshake, idle, header, request and keep-alive limits of connections (defaults in connection-timeouts.ts). */
  timeouts?: Partial<ConnectionTimeouts>;
  /** How many refusals are logged: a token bucket (default 10 at once, then one a second). */
  refusalLogRate?: RateLimitOptions;
  /** Lifetime of the certificates trustd signs (default 24 h, as upstream). */
  validityHours?: number;
  logger?: RuntimeLogger;
  /** Where each certificate signed and each refused request (400, 401, 403) is recorded. */
  audit?: AuditSink;
}

export interface Trustd {
  port: number;
  close(): Promise<void>;
}

export async function startTrustd(options: TrustdOptions): Promise<Trustd> {
  const clock = options.clock ?? systemClock;
  const log: RuntimeLogger = options.logger ?? (() => undefined);
  const limiter = options.rateLimit === false ? undefined : new RateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT, clock);
  const refusals = new RefusalLog(log, clock, 'trustd', options.refusalLogRate);
  const audit = options.audit ?? noAudit;
  const refusalAudit = new RefusalAudit(audit, clock, 'trustd', options.refusalLogRate);

  const timeouts = connectionTimeouts(options.timeouts);
  const server = createServer({ minVersion: 'TLSv1.2', ...timeoutServerOptions(timeouts) });
  applyConnectionTimeouts(server, timeouts);
  const material = await TrustdMaterial.watch(
    options.state,
    (tls) => {
      // New connections get the re-issued certificate; open ones keep the one they shook hands with.
      server.setSecureContext({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' });
      log('trustd serving certificate updated', {});
    },
    log,
  );

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((err: unknown) => {
      log('trustd request failed', { error: err instanceof Error ? err.message : String(err) });
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    });
  });
  // A handshake that fails (no certificate yet, a client distrusting ours) is the client's business, not a crash.
  server.on('tlsClientError', () => undefined);

  // The accepted-CA bundle changes only with the OS root secrets: escape it for JSON once per change, not per request.
  let bundleText = '';
  let bundleJson = '""';
  function caBundleJson(bundle: string): string {
    if (bundle !== bundleText) {
      bundleText = bundle;
      bundleJson = JSON.stringify(bundle);
    }
    return bundleJson;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const source = req.socket.remoteAddress ?? 'unknown';
    const now = clock.now();
    // Who asked, as far as trustd knows: the token's fingerprint once one was presented.
    let actor = 'anonymous';
    try {
      const path = (req.url ?? '').split('?')[0];
      if (path !== CERTIFICATE_PATH) throw new TrustdError(404, `no such endpoint ${JSON.stringify(path)}: trustd answers POST ${CERTIFICATE_PATH}`);
      if (req.method !== 'POST') throw new TrustdError(405, `method ${req.method ?? '?'} not allowed: use POST ${CERTIFICATE_PATH}`);
      if (limiter && !limiter.take(source, now.toMillis())) {
        const wait = limiter.retryAfterSeconds(source);
        res.setHeader('Retry-After', String(wait));
        throw new TrustdError(429, `rate limit exceeded for ${source}: retry in ${wait}s`);
      }
      const signing = material.signing;
      if (!signing) throw new TrustdError(503, 'trustd cannot sign yet: this node has no OS issuing CA (workers do not run trustd)');
      const token = tokenFingerprint(checkBearerToken(req.headers.authorization, signing.token));
      actor = `token ${token}`;
      const csrPem = await readCsrRequest(req);
      const { issued, csr } = signCsr(signing.ca, csrPem, { now: now.toJSDate(), ...(options.validityHours ? { validityHours: options.validityHours } : {}) });
      // Handed to the recorder before the answer goes out; it commits records in groups, off the signing path.
      void audit.record({ actor, source, action: 'certificate-issued', details: { ...certificateDetails('os', issued.cert), issuedBy: 'trustd', node: csr.commonName, token } });
      sendJson(res, 200, `{"crt":${JSON.stringify(issued.certPem)},"ca":${caBundleJson(signing.caBundle)}}`);
      if (options.logger) {
        log('trustd signed a certificate', {
          source,
          subject: csr.commonName,
          ...(csr.organizations.length ? { strippedOrganizations: csr.organizations.join(',') } : {}),
          sans: [...csr.dnsNames, ...csr.ipAddresses].join(','),
        });
      }
    } catch (err) {
      if (!(err instanceof TrustdError)) throw err;
      send(res, err.status, { error: err.message });
      refusals.refused('trustd refused a request', { source, status: err.status, error: err.message });
      if (AUDITED_REFUSALS.has(err.status)) refusalAudit.refused(actor, source, { status: err.status, reason: err.message });
    }
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    material.close();
    throw new Error(`trustd cannot listen on ${options.host}:${options.port}: ${(err as Error).message}`);
  }
  const port = (server.address() as AddressInfo).port;
  log('trustd listening', { address: `${options.host}:${port}` });

  return {
    port,
    async close() {
      material.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function send(res: ServerResponse, status: number, body: Record<string, string>): void {
  sendJson(res, status, JSON.stringify(body));
}

function sendJson(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
