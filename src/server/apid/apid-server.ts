// apid: the node's HTTPS API with mutual TLS. Its server certificate is the node's current ApiCertificates server
// certificate, swapped in (setSecureContext) whenever it is re-issued (serving-certificate.ts); client certificates
// are checked by us, not by OpenSSL (requestCert without rejectUnauthorized), so that each refusal carries Talos's own
// message and the accepted CAs are read afresh for every connection (client-verdicts.ts). Each request goes through
// call-dispatch.ts; the calls are listed in api-routes.ts.
import https from 'node:https';
import type { Clock } from '../../runtime/clock.js';
import { systemClock } from '../../runtime/clock.js';
import type { ResourceRegistry } from '../../runtime/resource.js';
import type { RuntimeLogger } from '../../runtime/runtime-context.js';
import type { State } from '../../runtime/state.js';
import { applyConnectionTimeouts, connectionTimeouts } from '../connection-timeouts.js';
import { mtlsServerOptions, servingContextOptions } from '../server-tls.js';
import type { ConnectionTimeouts } from '../connection-timeouts.js';
import { listen } from '../listener.js';
import type { RateLimitOptions } from '../rate-limit.js';
import { RefusalLog } from '../refusal-log.js';
import { RefusalAudit } from '../refusal-audit.js';
import type { AuditSink } from '../../controllers/audit/index.js';
import { noAudit } from '../../controllers/audit/index.js';
import type { ServiceLogs } from '../service-logs.js';
import type { CaKeys } from '../../config/ca-keys.js';
import { memoryCaKeys } from '../../controllers/certificate-cache.js';
import { apiRoutes } from './api-routes.js';
import { CallDispatch } from './call-dispatch.js';
import { ClientVerdicts } from './client-verdicts.js';
import { Forwarder } from './forwarding.js';
import type { ForwardOptions } from './forwarding.js';
import { APID_PORT, parseNodeAddress } from './node-address.js';
import { RevokedPresentations } from './revoked-presentations.js';
import { RevokedSet } from '../revocation/index.js';
import type { RevocationListener } from '../revocation/index.js';
import { ServingCertificate } from './serving-certificate.js';
import { AcceptedCAs } from './tls-material.js';
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
  const audit = options.audit ?? noAudit;
  // A bad member address fails here, before anything listens.
  for (const member of options.forward ? (options.forward.members ?? []) : []) parseNodeAddress(member);
  const cas = new AcceptedCAs(state).follow();
  // Loaded before anything listens: no request is served before the revocations stored now are known.
  const revoked = await RevokedSet.follow(state, log);
  const watches = new WatchSlots(options.watchLimits ?? DEFAULT_WATCH_LIMITS);
  const dispatch = new CallDispatch({
    router: apiRoutes(state, registry, clock, { audit, caKeys: options.caKeys ?? memoryCaKeys, serviceLogs: options.serviceLogs, onRevocation: options.onRevocation }),
    verdicts: new ClientVerdicts(cas, clock),
    revoked,
    presented: new RevokedPresentations(state, clock, log),
    watches,
    refusals: new RefusalLog(log, clock, 'apid', options.refusalLogRate),
    refusalAudit: new RefusalAudit(audit, clock, 'apid', options.refusalLogRate),
    log,
  });

  const timeouts = connectionTimeouts(options.timeouts);
  const server = https.createServer(mtlsServerOptions(timeouts), dispatch.serve);
  applyConnectionTimeouts(server, timeouts);
  const serving = new ServingCertificate(state, (tls) => server.setSecureContext(servingContextOptions(tls)), log);
  const followers = () => {
    serving.close();
    cas.close();
    revoked.close();
  };

  const host = options.host ?? '127.0.0.1';
  const listener = await listen(server, 'apid', host, options.port ?? APID_PORT).catch((err: unknown) => {
    followers();
    throw err;
  });
  const { port } = listener;
  // Made once listening: the cluster's apid port defaults to the one this apid listens on.
  if (options.forward !== false) dispatch.forwarder = new Forwarder(state, cas, revoked, options.forward?.defaultPort ?? port, options.forward?.members);
  log('apid listening', { address: `${host}:${port}` });

  return {
    port,
    ready: serving.ready,
    openWatches: () => watches.size,
    async close() {
      followers();
      dispatch.forwarder?.close();
      await listener.close();
    },
  };
}
