// trustd: HTTPS, server-authenticated only. `POST /v1/certificate` with `Authorization: Bearer <token>` and
// `{"csr": "<PEM>"}` answers `{"crt": "<PEM>", "ca": "<PEM bundle>"}`; a refusal is `{"error": "<message>"}` with its
// status (400 bad request, 401 token, 403 a revoked node or a CSR outside a join token's binding, 429 rate limit), so
// curl and scripts can use it as they would upstream's. The token is the static machine.token (unless TokenPolicies
// turns it off) or a join token of the store (join-token-check.ts); a node renewing sends no token and presents its
// current apid certificate instead (trustd-caller.ts). `GET /crl/<ca>.crl` serves each CA's CRL (DER),
// unauthenticated; `GET /v1/revocations` (token or certificate) hands workers the revocations (revocations-endpoint.ts).
import { createServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../runtime/clock.js';
import { systemClock } from '../../runtime/clock.js';
import type { RuntimeLogger } from '../../runtime/runtime-context.js';
import type { State } from '../../runtime/state.js';
import { DEFAULT_RATE_LIMIT, RateLimiter } from '../rate-limit.js';
import type { RateLimitOptions } from '../rate-limit.js';
import { applyConnectionTimeouts, connectionTimeouts } from '../connection-timeouts.js';
import { mtlsServerOptions, servingContextOptions } from '../server-tls.js';
import type { ConnectionTimeouts } from '../connection-timeouts.js';
import { listen } from '../listener.js';
import { RefusalLog } from '../refusal-log.js';
import { sendJson } from '../send-json.js';
import { RefusalAudit } from '../refusal-audit.js';
import { certificateDetails, noAudit, tokenFingerprint } from '../../controllers/audit/index.js';
import type { AuditSink } from '../../controllers/audit/index.js';
import { RevokedSet } from '../revocation/index.js';
import { CRL_CONTENT_TYPE, CRL_PREFIX, crlFor } from './crl-endpoint.js';
import { KUBELET_CSR_PATH, signKubeletCsr } from './kubelet-csr-call.js';
import { readCsrRequest } from './read-request.js';
import { refuseRevokedNode } from './revoked-node-check.js';
import { REVOCATIONS_PATH, serveRevocations } from './revocations-endpoint.js';
import { signCsr } from './sign-csr.js';
import { tokenUsedEvent } from '../join-tokens/join-token-audit.js';
import { KUBELET_NODE_PREFIX, KUBELET_NODES_GROUP } from '../../controllers/kubelet-certificate-controller.js';
import { checkBinding, consumeJoinToken } from './join-token-check.js';
import { checkRenewalNames } from './node-certificate-auth.js';
import { bearerToken } from './token-check.js';
import { csrCaller, revocationsCaller } from './trustd-caller.js';
import type { CallerContext, TrustdCaller } from './trustd-caller.js';
import { TrustdError } from './trustd-error.js';
import { TrustdMaterial } from './trustd-material.js';
import type { CaKeys } from '../../config/ca-keys.js';
import { caForRequest } from './signing-failure.js';

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
  /** Lifetime of the kubelet certificates trustd signs (default one year, as Kubernetes' CSR signer). */
  kubeletValidityHours?: number;
  logger?: RuntimeLogger;
  /** Where the OS and Kubernetes CAs sign (default: their PEM keys in memory). */
  caKeys?: CaKeys;
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
  const revoked = await RevokedSet.follow(options.state, log);

  const timeouts = connectionTimeouts(options.timeouts);
  // A kubelet or a node renewing presents its certificate; it is asked for, never required (a first CSR authenticates
  // with a token), and judged by the call it authenticates (kubelet-requester.ts, trustd-caller.ts), not the TLS stack.
  const server = createServer(mtlsServerOptions(timeouts));
  applyConnectionTimeouts(server, timeouts);
  const material = await TrustdMaterial.watch(
    options.state,
    (tls) => {
      // New connections get the re-issued certificate; open ones keep the one they shook hands with.
      server.setSecureContext(servingContextOptions(tls));
      log('trustd serving certificate updated', {});
    },
    log,
    options.caKeys,
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

  const callerContext = (now: Date): CallerContext => ({
    state: options.state,
    staticToken: material.signing?.token,
    accepted: material.signing?.accepted ?? [],
    revoked,
    now,
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const source = req.socket.remoteAddress ?? 'unknown';
    const now = clock.now();
    // Who asked, as far as trustd knows: the token's fingerprint, or the serial of the certificate a node renews with.
    let actor = 'anonymous';
    try {
      const path = (req.url ?? '').split('?')[0];
      if (path.startsWith(CRL_PREFIX)) return await serveCrl(req, res, path, source, now.toMillis());
      if (path === REVOCATIONS_PATH) {
        takeToken(res, source, now.toMillis());
        await revocationsCaller(req, callerContext(now.toJSDate()));
        return await serveRevocations(req, res, revoked);
      }
      if (path !== CERTIFICATE_PATH && path !== KUBELET_CSR_PATH)
        throw new TrustdError(404, `no such endpoint ${JSON.stringify(path)}: trustd answers POST ${CERTIFICATE_PATH} and POST ${KUBELET_CSR_PATH}`);
      if (req.method !== 'POST') throw new TrustdError(405, `method ${req.method ?? '?'} not allowed: use POST ${path}`);
      takeToken(res, source, now.toMillis());
      if (path === KUBELET_CSR_PATH) {
        await kubeletCsr(req, res, source, now.toJSDate());
        return;
      }
      const signing = material.signing;
      if (!signing) throw new TrustdError(503, 'trustd cannot sign yet: this node has no OS issuing CA (workers do not run trustd)');
      const caller = await csrCaller(req, callerContext(now.toJSDate()));
      // A token by its fingerprint, a renewing node by the serial of the certificate it presented.
      const credential: Record<string, string> = caller.auth === 'certificate' ? { renewedCertificate: caller.node.serial } : { token: tokenFingerprint(caller.token) };
      actor = caller.auth === 'certificate' ? `certificate ${caller.node.serial}` : `token ${credential.token}`;
      const csrPem = await readCsrRequest(req);
      const { issued, csr } = await signCsr(caForRequest(signing.ca), csrPem, {
        now: now.toJSDate(),
        ...(options.validityHours ? { validityHours: options.validityHours } : {}),
        admit: (request) => {
          refuseRevokedNode(request, revoked);
          if (caller.auth === 'certificate') checkRenewalNames(request, caller.node);
        },
      });
      if (caller.auth === 'join') {
        checkBinding(caller.joinToken.spec, csr);
        // Signing has no side effect: only once the use is spent does the certificate leave, so a lost race hands out nothing.
        const used = await consumeJoinToken(options.state, caller.token, { now: now.toJSDate(), source, names: [...csr.ipAddresses, ...csr.dnsNames] });
        void audit.record({ actor, source, ...tokenUsedEvent(used, caller.token, csr.commonName) });
      }
      // Handed to the recorder before the answer goes out; it commits records in groups, off the signing path.
      void audit.record({ actor, source, action: 'certificate-issued', details: { ...certificateDetails('os', issued.cert), issuedBy: 'trustd', node: csr.commonName, ...credential } });
      sendJson(res, 200, `{"crt":${JSON.stringify(issued.certPem)},"ca":${caBundleJson(signing.caBundle)}}`);
      if (options.logger) {
        log('trustd signed a certificate', {
          source,
          subject: csr.commonName,
          ...(csr.organizations.length ? { strippedOrganizations: csr.organizations.join(',') } : {}),
          sans: [...csr.dnsNames, ...csr.ipAddresses].join(','),
          token: callerName(caller),
        });
      }
    } catch (err) {
      if (!(err instanceof TrustdError)) throw err;
      send(res, err.status, { error: err.message });
      refusals.refused('trustd refused a request', { source, status: err.status, error: err.message });
      if (AUDITED_REFUSALS.has(err.status)) refusalAudit.refused(actor, source, { status: err.status, reason: err.message });
    }
  }

  function takeToken(res: ServerResponse, source: string, at: number): void {
    if (!limiter || limiter.take(source, at)) return;
    const wait = limiter.retryAfterSeconds(source);
    res.setHeader('Retry-After', String(wait));
    throw new TrustdError(429, `rate limit exceeded for ${source}: retry in ${wait}s`);
  }

  /** Unauthenticated, like any CRL distribution point; rate-limited like the rest. */
  async function serveCrl(req: IncomingMessage, res: ServerResponse, path: string, source: string, at: number): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new TrustdError(405, `method ${req.method ?? '?'} not allowed: use GET ${path}`);
    takeToken(res, source, at);
    const der = await crlFor(options.state, path);
    res.writeHead(200, { 'Content-Type': CRL_CONTENT_TYPE, 'Content-Length': der.length });
    res.end(req.method === 'HEAD' ? undefined : der);
  }

  async function kubeletCsr(req: IncomingMessage, res: ServerResponse, source: string, now: Date): Promise<void> {
    const signed = await signKubeletCsr(req, material.kubelet, now, options.kubeletValidityHours);
    const { kind, requester } = signed;
    // The renewing kubelet by the certificate it presented; a first join by the bootstrap token's fingerprint.
    const actor = requester.auth === 'certificate' ? `CN=${KUBELET_NODE_PREFIX}${requester.node},O=${KUBELET_NODES_GROUP}` : `token ${tokenFingerprint(bearerToken(req.headers.authorization))}`;
    void audit.record({ actor, source, action: 'certificate-issued', details: { ...certificateDetails('kubernetes', signed.issued.cert), issuedBy: 'trustd', kind, node: requester.node, auth: requester.auth } });
    sendJson(res, 200, JSON.stringify({ crt: signed.issued.certPem, ca: signed.caBundle }));
    log('trustd signed a kubelet certificate', { source, kind: signed.kind, node: signed.requester.node, auth: signed.requester.auth, subject: signed.csr.commonName });
  }

  const listener = await listen(server, 'trustd', options.host, options.port).catch((err: unknown) => {
    material.close();
    revoked.close();
    throw err;
  });
  log('trustd listening', { address: `${options.host}:${listener.port}` });

  return {
    port: listener.port,
    async close() {
      material.close();
      revoked.close();
      await listener.close();
    },
  };
}

function callerName(caller: TrustdCaller): string {
  if (caller.auth === 'join') return `join token ${caller.joinToken.metadata.id}`;
  return caller.auth === 'certificate' ? `renewal with certificate ${caller.node.serial}` : 'static machine.token';
}

function send(res: ServerResponse, status: number, body: Record<string, string>): void {
  sendJson(res, status, JSON.stringify(body));
}
