// apid: the node's HTTPS API with mutual TLS. Its server certificate is the node's current ApiCertificates server
// certificate, swapped in (setSecureContext) whenever it is re-issued; client certificates are checked by us, not by
// OpenSSL (requestCert without rejectUnauthorized), so that each refusal carries Talos's own message and the accepted
// CAs are read afresh for every connection. The calls are listed in api-paths.ts.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Subscription } from 'rxjs';
import { CROSS_SIGNED_CAS_ID, CrossSignedCAs } from '../../resources/cross-signed-cas.js';
import type { CrossSignedCAsSpec } from '../../resources/cross-signed-cas.js';
import { EXTRA_ACCEPTED_CA_IDS, ExtraAcceptedCAs } from '../../resources/extra-accepted-cas.js';
import { structureOf } from '../../pki/certificate-structure.js';
import type { IssuedCertificatesSpec } from '../../resources/issued-certificates.js';
import type { Clock } from '../../runtime/clock.js';
import { systemClock } from '../../runtime/clock.js';
import type { ResourceRegistry } from '../../runtime/resource.js';
import type { RuntimeLogger } from '../../runtime/runtime-context.js';
import type { State, WatchEvent } from '../../runtime/state.js';
import { applyConnectionTimeouts, connectionTimeouts, timeoutServerOptions } from '../connection-timeouts.js';
import type { ConnectionTimeouts } from '../connection-timeouts.js';
import type { RateLimitOptions } from '../rate-limit.js';
import { RefusalLog } from '../refusal-log.js';
import { RefusalAudit } from '../refusal-audit.js';
import type { AuditSink } from '../../controllers/audit/index.js';
import { noAudit } from '../../controllers/audit/index.js';
import type { ServiceLogs } from '../service-logs.js';
import { ApiError, toApiError } from './api-error.js';
import { API_VERSION, NODE_HEADER, ROLES_HEADER, TRUSTPLANE_VERSION, paths } from './api-paths.js';
import type { VersionInfo } from './api-paths.js';
import { IMPERSONATOR_ROLE, effectiveRoles } from './authorization.js';
import type { Permission } from './authorization.js';
import { clientConfigCall } from './client-config-call.js';
import type { CaKeys } from '../../config/ca-keys.js';
import { memoryCaKeys } from '../../controllers/certificate-cache.js';
import { verifyClientCertificate } from './client-verification.js';
import type { ClientVerdict } from './client-verification.js';
import { caListCall } from './ca-list-call.js';
import { Forwarder } from './forwarding.js';
import type { ForwardOptions } from './forwarding.js';
import { joinTokenCalls } from './join-token-calls.js';
import { logsCall } from './logs-call.js';
import { machineConfigCalls } from './machine-config-calls.js';
import { parseNodeAddress } from './node-address.js';
import { readPermissions, resourceCalls } from './resource-calls.js';
import { revocationCalls } from './revocation-calls.js';
import { RevokedPresentations } from './revoked-presentations.js';
import { rotationCall } from './rotation-call.js';
import { RevokedSet, revokedClientMessage } from '../revocation/index.js';
import type { RevocationListener } from '../revocation/index.js';
import { JsonText, Router, STREAMED, requirePermission, requireRoute } from './router.js';
import { snapshotCall } from './store-snapshot.js';
import { checkCall } from './check-call.js';
import { auditVerifyCall } from './audit-verify-call.js';
import { API_CERTIFICATES, AcceptedCAs, CROSS_SIGNED, apiCertificate, servingChain } from './tls-material.js';
import { watchCall } from './watch-stream.js';
import { DEFAULT_WATCH_LIMITS, WatchSlots } from './watch-slots.js';
import type { WatchLimits } from './watch-slots.js';

export interface ApidOptions {
  state: State;
  registry: ResourceRegistry;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 50000; 0 picks a free port (tests). */
  port?: number;
  /** Judges client certificate validity; the system clock by default. */
  clock?: Clock;
  /** `-n NODE` forwarding; on unless `false`. */
  forward?: ForwardOptions | false;
  /** Open watch streams per client certificate and in total (default 100 and 1000). */
  watchLimits?: WatchLimits;
  /** Handshake, idle, header, request and keep-alive limits of connections (defaults in connection-timeouts.ts). */
  timeouts?: Partial<ConnectionTimeouts>;
  /** How many refused calls (4xx) are logged: a token bucket (default 10 at once, then one a second). */
  refusalLogRate?: RateLimitOptions;
  /** Told of each revocation recorded or lifted through this apid (the audit trail's hook). */
  onRevocation?: RevocationListener;
  logger?: RuntimeLogger;
  /** Where the OS CA signs `config new` client certificates (default: its PEM key in memory). */
  caKeys?: CaKeys;
  /** Where config new, machine config changes, rotation starts, revocations, join-token changes and refused calls (401, 403) are recorded. */
  audit?: AuditSink;
  /** The node's service logs, served to `trustctl logs` (serve keeps them; without them the call answers 404). */
  serviceLogs?: ServiceLogs;
}

export interface Apid {
  port: number;
  /** Resolves once the node's server certificate is installed (before that, handshakes fail). */
  ready: Promise<void>;
  /** Watch streams open now (forwarded ones included). */
  openWatches(): number;
  close(): Promise<void>;
}

export async function startApid(options: ApidOptions): Promise<Apid> {
  const { state, registry } = options;
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? (() => undefined);
  const refusals = new RefusalLog(log, clock, 'apid', options.refusalLogRate);
  const audit = options.audit ?? noAudit;
  const refusalAudit = new RefusalAudit(audit, clock, 'apid', options.refusalLogRate);
  const cas = new AcceptedCAs(state).follow();
  // Made once listening: the cluster's apid port defaults to the one this apid listens on. A bad member address fails
  // here, before anything listens.
  let forwarder: Forwarder | undefined;
  for (const member of options.forward ? (options.forward.members ?? []) : []) parseNodeAddress(member);
  // Loaded before anything listens: no request is served before the revocations stored now are known.
  const revoked = await RevokedSet.follow(state, log);
  const presented = new RevokedPresentations(state, clock, log);
  const router = buildRouter(state, registry, clock, { audit, caKeys: options.caKeys ?? memoryCaKeys, serviceLogs: options.serviceLogs, onRevocation: options.onRevocation });
  const watches = new WatchSlots(options.watchLimits ?? DEFAULT_WATCH_LIMITS);
  const verdicts = new WeakMap<object, { generation: number; verdict: Promise<ClientVerdict> }>();

  /**
   * Once per connection, and again when the accepted CAs have changed since (a CA dropped by a rotation) or the client
   * certificate has expired since: getPeerX509Certificate and the chain check cost more than a whole small request,
   * but a kept-alive connection must not outlive the trust it was opened with.
   */
  const verdictOf = async (socket: TLSSocket): Promise<ClientVerdict> => {
    const cached = verdicts.get(socket);
    if (cached && cached.generation === cas.generation) {
      const verdict = await cached.verdict;
      if (!verdict.ok || clock.now().toMillis() <= verdict.identity.notAfter.getTime()) return verdict;
    }
    // The generation is the one of the CAs the check used (-1 until it has them: a request meanwhile checks again).
    const fresh = {
      generation: -1,
      verdict: cas.current().then(({ certs, generation }) => {
        fresh.generation = generation;
        return verifyClientCertificate(socket.getPeerX509Certificate(), certs, new Date(clock.now().toMillis()));
      }),
    };
    verdicts.set(socket, fresh);
    return fresh.verdict;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const verdict = await verdictOf(req.socket as TLSSocket);
    if (!verdict.ok) throw new ApiError(401, verdict.message);
    // Every request, not once per connection: a kept-alive connection must not outlive its certificate's revocation.
    const revocation = revoked.find('os', verdict.identity.serial);
    if (revocation) {
      presented.note(revocation, req.socket.remoteAddress);
      throw new ApiError(401, revokedClientMessage(revocation));
    }
    const roles = effectiveRoles(verdict.identity.roles, headerOf(req, ROLES_HEADER));
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const { route, params } = router.match(req.method ?? 'GET', path);
    // Before forwarding too: a caller whose roles may not make the call cannot make this node dial anything.
    requireRoute(route, params, roles);
    // Forwarded watches count here too: each holds a connection to the target as long as the caller's.
    if (route.watch) res.once('close', watches.take(verdict.identity.fingerprint, `client "${verdict.identity.subject}"`));
    const target = headerOf(req, NODE_HEADER);
    if (target) {
      if (verdict.identity.roles.includes(IMPERSONATOR_ROLE)) throw new ApiError(400, 'a forwarded call is not forwarded again');
      if (!forwarder) throw new ApiError(400, 'this node does not forward calls to other nodes');
      return forwarder.forward(req, res, target, roles);
    }
    const result = await route.handler({ req, res, params, query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)), identity: verdict.identity, roles });
    if (result !== STREAMED) sendJson(res, 200, result);
  };

  const timeouts = connectionTimeouts(options.timeouts);
  const server = https.createServer({ requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2', ...timeoutServerOptions(timeouts) }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const api = toApiError(err);
      if (api.status >= 500) log('apid call failed', { method: req.method, path: req.url, error: api.message });
      else refusals.refused('apid refused a call', () => ({ client: clientOf(req.socket as TLSSocket), method: req.method, path: req.url, status: api.status, error: api.message, source: req.socket.remoteAddress }));
      if (api.status === 401 || api.status === 403) {
        refusalAudit.refused(callerOf(req, api.status), req.socket.remoteAddress, { status: api.status, call: `${req.method ?? '?'} ${(req.url ?? '').split('?')[0]}`, reason: api.message });
      }
      if (!res.headersSent) sendJson(res, api.status, { error: api.message });
      else res.destroy();
    });
  });

  applyConnectionTimeouts(server, timeouts);

  let installed = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  // The server certificate, followed by the cross-signed CA that lets old-CA clients verify it during a rotation.
  let issued: IssuedCertificatesSpec | undefined;
  let crossSigned: string[] = [];
  const install = () => {
    const pair = apiCertificate(issued, 'server');
    if (!pair) return;
    const cert = servingChain(pair.cert, crossSigned);
    if (cert === installed) return;
    server.setSecureContext({ cert, key: pair.key });
    installed = cert;
    log('apid server certificate installed', cert === pair.cert ? {} : { chain: 'with the cross-signed CA of a rotation' });
    markReady();
  };
  const reinstall = () => {
    try {
      install();
    } catch (err) {
      log('apid server certificate not installed', { error: (err as Error).message });
    }
  };
  const failed = (what: string) => (err: unknown) => log(`apid ${what} watch failed`, { error: err instanceof Error ? err.message : String(err) });
  const isChange = (e: WatchEvent) => e.type === 'created' || e.type === 'updated' || e.type === 'destroyed';
  const subscriptions: Subscription[] = [
    state.watch<IssuedCertificatesSpec>(API_CERTIFICATES).subscribe({
      next: (e) => {
        if (!isChange(e)) return;
        issued = e.type === 'destroyed' ? undefined : e.resource?.spec;
        reinstall();
      },
      error: failed('certificate'),
    }),
    state.watch<CrossSignedCAsSpec>(CROSS_SIGNED).subscribe({
      next: (e) => {
        if (!isChange(e)) return;
        crossSigned = e.type === 'destroyed' ? [] : (e.resource?.spec.crts ?? []);
        reinstall();
      },
      error: failed('cross-signed CA'),
    }),
  ];
  const unsubscribe = () => subscriptions.forEach((s) => s.unsubscribe());

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 50000, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    unsubscribe();
    cas.close();
    revoked.close();
    throw new Error(`apid cannot listen on ${options.host ?? '127.0.0.1'}:${options.port ?? 50000}: ${(err as Error).message}`);
  }
  const port = (server.address() as AddressInfo).port;
  if (options.forward !== false) forwarder = new Forwarder(state, cas, revoked, options.forward?.defaultPort ?? port, options.forward?.members);
  log('apid listening', { address: `${options.host ?? '127.0.0.1'}:${port}` });

  return {
    port,
    ready,
    openWatches: () => watches.size,
    async close() {
      unsubscribe();
      cas.close();
      revoked.close();
      forwarder?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

interface RouterExtras {
  audit: AuditSink;
  /** Where the OS CA signs (config new), CA rotations cross-sign and the look ahead of check runs. */
  caKeys: CaKeys;
  serviceLogs: ServiceLogs | undefined;
  onRevocation: RevocationListener | undefined;
}

function buildRouter(state: State, registry: ResourceRegistry, clock: Clock, extras: RouterExtras): Router {
  const { audit, caKeys } = extras;
  const revocations = revocationCalls(state, clock, audit, extras.onRevocation);
  const resources = resourceCalls(state, registry);
  const tokens = joinTokenCalls(state, clock, audit);
  const watch = watchCall(state, registry);
  const machineConfig = machineConfigCalls(state, clock, audit);
  // An unknown type needs read only: the handler then says it is not supported (404), as it does to a local caller.
  const reading = (params: Record<string, string>): Permission[] => (registry.has(params.type) ? readPermissions(registry.resolve(params.type)) : ['read']);
  return new Router()
    .add('GET', paths.version, 'read', async (ctx): Promise<VersionInfo> => {
      requirePermission(ctx, 'read');
      return { version: TRUSTPLANE_VERSION, apiVersion: API_VERSION };
    })
    .add('GET', '/v1/resources/:type', reading, resources.list)
    .add('GET', '/v1/resources/:type/:id', reading, resources.get)
    .add('GET', '/v1/watch/:type', reading, watch, { watch: true })
    .add('GET', '/v1/watch/:type/:id', reading, watch, { watch: true })
    .add('PUT', paths.machineConfig, 'admin', machineConfig.apply)
    .add('PATCH', paths.machineConfig, 'admin', machineConfig.patch)
    .add('POST', paths.talosconfig, 'admin', clientConfigCall(state, clock, caKeys, audit))
    .add('GET', paths.auditVerify, 'audit', auditVerifyCall(state))
    .add('GET', paths.etcdSnapshot, 'etcdBackup', snapshotCall(state))
    .add('POST', paths.check, 'admin', checkCall(state, registry, clock, caKeys))
    .add('GET', '/v1/logs/:service', 'logs', logsCall(extras.serviceLogs), { watch: true })
    .add('POST', paths.joinTokens, 'admin', tokens.create)
    .add('GET', paths.joinTokens, 'admin', tokens.list)
    .add('DELETE', '/v1/jointokens/:id', 'admin', tokens.revoke)
    .add('PUT', paths.tokenPolicy, 'admin', tokens.policy)
    .add('POST', paths.caRotations, 'admin', rotationCall(state, clock, caKeys, audit))
    .add('POST', paths.revocations, 'admin', revocations.revoke)
    .add('POST', paths.liftRevocation, 'admin', revocations.lift)
    .add('PUT', '/v1/extraacceptedcas/:ca', 'admin', caListCall(state, { definition: ExtraAcceptedCAs, ids: EXTRA_ACCEPTED_CA_IDS, unknown: (id) => `no extra accepted CAs for "${id}": only ${EXTRA_ACCEPTED_CA_IDS.join(' and ')} (the Talos API and Kubernetes CAs have machine.acceptedCAs and cluster.acceptedCAs)` }))
    .add('PUT', '/v1/crosssignedcas/:ca', 'admin', caListCall(state, { definition: CrossSignedCAs, ids: [CROSS_SIGNED_CAS_ID], unknown: (id) => `no cross-signed CAs for "${id}": only the Talos API CA (os) is served by apid` }));
}

const NO_CERTIFICATE = 'no certificate';

/** Who a refused caller said it was: its certificate's subject (one line), whether or not we trusted it. */
function clientOf(socket: TLSSocket): string {
  try {
    const peer = socket.getPeerX509Certificate();
    return peer ? structureOf(peer).subject.text : NO_CERTIFICATE;
  } catch {
    return 'unreadable certificate';
  }
}

/**
 * Who a refused caller is in the audit trail: `anonymous` without a certificate; on a 401 the certificate did not pass,
 * so its subject is only what the caller claims, and the record says so.
 */
function callerOf(req: IncomingMessage, status: number): string {
  const client = clientOf(req.socket as TLSSocket);
  if (client === NO_CERTIFICATE) return 'anonymous';
  return status === 401 ? `${client} (not verified)` : client;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = body instanceof JsonText ? body.text : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
