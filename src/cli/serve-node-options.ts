// serve's flags as the options of a node (src/server/node-assembly): lifetimes, audit retention, the node's addresses
// and its services. Checked before anything is opened, so a bad flag leaves no state behind.
import type { CertificateLifetimes } from '../controllers/lifetimes.js';
import type { AuditRetention } from '../controllers/audit/index.js';
import type { NodeServiceOptions } from '../server/node-assembly/index.js';
import type { NodeOptions } from '../server/node.js';
import { lifetimeHours } from './duration.js';
import type { ServeLoggers } from './serve-logs.js';
import type { ServeOptions } from './serve-options.js';

export function lifetimesFrom(opts: ServeOptions): Partial<CertificateLifetimes> {
  const hours = (ms: number | undefined, flag: string): number | undefined => {
    if (ms === undefined) return undefined;
    if (!(ms > 0)) throw new Error(`${flag}: must be positive`);
    return lifetimeHours(flag, ms);
  };
  const api = hours(opts.apiLifetime, '--api-lifetime');
  const out: Partial<CertificateLifetimes> = {};
  if (api !== undefined) Object.assign(out, { apiServerHours: api, impersonatorHours: api });
  const trustd = hours(opts.trustdLifetime, '--trustd-lifetime');
  if (trustd !== undefined) out.trustdHours = trustd;
  const etcd = hours(opts.etcdLifetime, '--etcd-lifetime');
  if (etcd !== undefined) out.etcdHours = etcd;
  const kubernetes = hours(opts.kubernetesLifetime, '--kubernetes-lifetime');
  if (kubernetes !== undefined) out.kubernetesHours = kubernetes;
  return out;
}

/** --audit-retention and --audit-max-records, as the recorder takes them. */
export function auditRetention(opts: Pick<ServeOptions, 'auditRetention' | 'auditMaxRecords'>): AuditRetention {
  return {
    ...(opts.auditRetention !== undefined ? { maxAgeHours: opts.auditRetention / 3_600_000 } : {}),
    ...(opts.auditMaxRecords !== undefined ? { maxCount: opts.auditMaxRecords } : {}),
  };
}

/** --node-ip and --hostname: what the node's certificates name besides the host's own. */
export function nodeAddresses(opts: Pick<ServeOptions, 'nodeIp' | 'hostname'>): NodeOptions['addresses'] {
  return { ...(opts.nodeIp.length > 0 ? { addresses: opts.nodeIp } : {}), ...(opts.hostname ? { hostname: opts.hostname } : {}) };
}

/** The services' flags; each service logs into its own ring, which `trustctl logs` reads through apid. */
export function serviceOptions(opts: ServeOptions, loggers: ServeLoggers): Omit<NodeServiceOptions, 'caKeys' | 'clock'> {
  return {
    listenAddress: opts.listenAddress,
    apidPort: opts.apidPort,
    trustdPort: opts.trustdPort,
    trustdEndpoints: opts.trustdEndpoint,
    members: opts.member,
    watchLimits: { perClient: opts.maxWatchesPerClient, total: opts.maxWatches },
    ...(opts.metricsAddr ? { metrics: metricsAddress(opts.metricsAddr) } : {}),
    serviceLogs: loggers.logs,
    logger: (service) => loggers.service(service),
    portFix: 'free it, or pick another with --apid-port, --trustd-port or --metrics-addr',
  };
}

function metricsAddress(text: string): { host: string; port: number } {
  const at = text.lastIndexOf(':');
  const port = Number(text.slice(at + 1));
  if (at < 0 || !Number.isInteger(port)) throw new Error(`--metrics-addr: expected HOST:PORT, got ${JSON.stringify(text)}`);
  return { host: text.slice(0, at), port };
}
