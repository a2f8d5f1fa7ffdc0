// The action of `trustctl serve` (serve.ts declares the command), loaded only when it runs.
import { mkdirSync } from 'node:fs';
import { machineConfigOf } from '../resources/machine-config.js';
import type { CertificateLifetimes } from '../controllers/lifetimes.js';
import type { Node } from '../server/node.js';
import type { AuditRetention, AuditSink } from '../controllers/audit/index.js';
import { lifetimeHours } from './duration.js';
import type { CaKeys } from '../config/ca-keys.js';
import { openCaKeys } from './serve-ca-keys.js';
import { recordConfigChange } from './local-audit.js';
import type { LineLogger } from './log-line.js';
import { applyMachineConfigOnStart, readMachineConfigFile, storedMachineConfig } from './machine-config-file.js';
import type { MachineConfigFile } from './machine-config-file.js';
import { serveLoggers } from './serve-logs.js';
import type { ServeLoggers } from './serve-logs.js';
import { runUntilSettled, summarize } from './serve-once.js';
import { tightenStateDir } from './state-dir-mode.js';
import { lockStateDir } from './state-lock.js';
import type { ServeOptions } from './serve.js';
import { resolveStateDir, storeExists } from './state-path.js';

function lifetimesFrom(opts: ServeOptions): Partial<CertificateLifetimes> {
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

/** Something serve runs beside the runtime and stops before it. */
export interface Service {
  name: string;
  stop(): Promise<void>;
}

export async function serve(opts: ServeOptions): Promise<void> {
  const loggers = serveLoggers(opts.logFormat);
  const { log } = loggers;
  const lifetimes = lifetimesFrom(opts);
  const stateDir = resolveStateDir(opts.state);
  // Validated before the store is opened: a bad file leaves no state directory, store or key behind. Into a fresh
  // store the file will be applied, so its CAs must be valid now; otherwise applyConfigOnStart judges that if it applies.
  const fresh = !opts.store && !storeExists(stateDir);
  const file = opts.config ? await readMachineConfigFile(opts.config, opts, fresh ? new Date() : undefined) : undefined;
  if (opts.store?.startsWith('etcd://')) {
    const { serveReplica } = await import('./serve-replica.js');
    return serveReplica(opts, { file, lifetimes, stateDir, loggers });
  }
  if (opts.store) throw new Error(`--store: "${opts.store}" is not an etcd URL; give etcd://HOST:PORT[,HOST:PORT]/PREFIX, or leave it out for the SQLite store in --state`);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const loose = tightenStateDir(stateDir);
  if (loose) log('warn', 'state directory tightened', { state: stateDir, finding: loose.message });
  const lock = lockStateDir(stateDir);
  process.once('exit', () => lock.release());
  const caKeys = await openCaKeys(opts, log);
  const { openNode } = await import('../server/node.js');
  const node = await openNode({
    ...(caKeys ? { caKeys } : {}),
    stateDir,
    storeFindings: loose ? [loose] : [],
    addresses: { ...(opts.nodeIp.length > 0 ? { addresses: opts.nodeIp } : {}), ...(opts.hostname ? { hostname: opts.hostname } : {}) },
    lifetimes,
    logger: loggers.service('controller-runtime'),
    audit: { retention: auditRetention(opts) },
  });
  log('info', 'node opening', { state: stateDir, keys: node.state.encryptedAtRest ? 'encrypted at rest' : 'NOT encrypted' });
  const stopping = onStopSignal(log, async () => {
    await node.stop();
    caKeys?.close();
  });
  try {
    // A store restored from a snapshot (or edited) without its key is refused here, before anything reads or serves it.
    await node.state.verifySealing();
    await applyConfigOnStart(node, file, log, `--state ${stateDir}`);
    // --once is for scripts that want the certificates issued and the summary: no listeners, no ports taken.
    const services = opts.once ? [] : await startServices(node, opts, loggers, caKeys);
    stopping.before(async () => Promise.all(services.map((s) => s.stop())).then(() => undefined));
    await node.runtime.start();
    if (!opts.once) node.audit.start();
    log('info', 'node running', { controllers: node.runtime.controllers.length });
    if (opts.once) {
      const outcome = once(node, log);
      // A signal during --once stops the node under it; what it was doing then no longer matters.
      outcome.catch(() => undefined);
      await Promise.race([outcome, stopping.done]);
    } else {
      // Said once, so a supervisor (or a test) knows when the first round of work is done.
      // The records of the first round are signed now rather than at the first tick of the audit timer.
      void node.runtime
        .settled()
        .then(() => node.audit.tick())
        .then(() => {
          if (!node.runtime.stopped) log('info', 'node settled', {});
        });
      await stopping.done;
    }
  } finally {
    await stopping.stop('exit');
  }
}

/** --audit-retention and --audit-max-records, as the recorder takes them. */
export function auditRetention(opts: Pick<ServeOptions, 'auditRetention' | 'auditMaxRecords'>): AuditRetention {
  return {
    ...(opts.auditRetention !== undefined ? { maxAgeHours: opts.auditRetention / 3_600_000 } : {}),
    ...(opts.auditMaxRecords !== undefined ? { maxCount: opts.auditMaxRecords } : {}),
  };
}

/** What the services need of a node: its store, its types and its audit trail. */
export type ServiceNode = Pick<Node, 'state' | 'registry'> & { audit: AuditSink };

/** `reach`: the trustctl flags that reach this node's store, for the way out of a refusal. */
export async function applyConfigOnStart(node: Pick<Node, 'state'>, file: MachineConfigFile | undefined, log: LineLogger, reach: string): Promise<void> {
  if (!file) {
    if (await storedMachineConfig(node.state)) return;
    throw new Error('the store holds no machine config yet: pass --config FILE (make one with: trustctl gen config <cluster-name> <endpoint>)');
  }
  const { outcome, resource, previous } = await applyMachineConfigOnStart(node.state, file, reach, new Date());
  const fields = { file: file.path, version: resource.metadata.version };
  if (outcome === 'applied') await recordConfigChange(node.state, 'serve --config', previous, resource);
  if (outcome === 'applied') log('info', 'machine config applied', fields);
  else if (outcome === 'unchanged') log('info', 'machine config unchanged', fields);
  else log('info', 'machine config file unchanged since it was applied: keeping the stored config, changed since over the API', fields);
}

/**
 * apid on every node; trustd on control-plane nodes; on workers the trustd client that fetches the apid certificate;
 * metrics when asked. They start once the store is open and stop before the runtime does.
 */
export async function startServices(node: ServiceNode, opts: ServeOptions, loggers: ServeLoggers, caKeys?: CaKeys): Promise<Service[]> {
  const services: Service[] = [];
  try {
    await startEach(services, node, opts, loggers, caKeys);
  } catch (err) {
    // A port already taken, say: what did start must not keep the process alive with nothing to stop it.
    for (const service of services.reverse()) await service.stop().catch(() => undefined);
    if (err instanceof Error && err.message.includes('EADDRINUSE')) throw new Error(`${err.message}; that port is taken (by another process, or by another listener of this node): free it, or pick another with --apid-port, --trustd-port or --metrics-addr`);
    throw err;
  }
  return services;
}

/** Starts each service in turn, adding it to `services` as soon as it runs (so a later failure can stop it). */
async function startEach(services: Service[], node: ServiceNode, opts: ServeOptions, loggers: ServeLoggers, caKeys: CaKeys | undefined): Promise<void> {
  const { log } = loggers;
  const logger = loggers.service('controller-runtime');
  const { state, registry, audit } = node;
  const config = await storedMachineConfig(state);
  const worker = config ? machineConfigOf(config).type === 'worker' : false;
  const { startApid } = await import('../server/apid/index.js');
  const watchLimits = { perClient: opts.maxWatchesPerClient, total: opts.maxWatches };
  const apid = await startApid({ state, registry, host: opts.listenAddress, port: opts.apidPort, logger: loggers.service('apid'), serviceLogs: loggers.logs, forward: { members: opts.member }, watchLimits, audit, ...(caKeys ? { caKeys } : {}) });
  services.push({ name: 'apid', stop: () => apid.close() });
  if (worker) {
    const { startKubeletCsrClient, startRevocationFollower, startTrustdClient } = await import('../server/trustd-client/index.js');
    const endpoints = opts.trustdEndpoint.length > 0 ? { endpoints: opts.trustdEndpoint } : {};
    const client = startTrustdClient({ state, logger, ...endpoints });
    services.push({ name: 'trustd-client', stop: () => client.close() });
    const follower = startRevocationFollower({ state, logger, ...endpoints });
    services.push({ name: 'revocation-follower', stop: () => follower.close() });
    const kubelet = startKubeletCsrClient({ state, logger, ...endpoints });
    services.push({ name: 'kubelet-csr-client', stop: () => kubelet.close() });
  } else {
    const { startTrustd } = await import('../server/trustd/index.js');
    const trustd = await startTrustd({ state, host: opts.listenAddress, port: opts.trustdPort, logger: loggers.service('trustd'), audit, ...(caKeys ? { caKeys } : {}) });
    services.push({ name: 'trustd', stop: () => trustd.close() });
    // Replicas sharing a store run it in the elected leader only, on the fenced store (serve-replica.ts).
    if (!opts.store) services.push(await rotationDriverService(state, logger, audit, caKeys));
  }
  if (opts.metricsAddr) {
    const at = opts.metricsAddr.lastIndexOf(':');
    const port = Number(opts.metricsAddr.slice(at + 1));
    if (at < 0 || !Number.isInteger(port)) throw new Error(`--metrics-addr: expected HOST:PORT, got ${JSON.stringify(opts.metricsAddr)}`);
    const { startMetricsServer } = await import('../server/metrics.js');
    const metrics = await startMetricsServer({ state, host: opts.metricsAddr.slice(0, at) || '127.0.0.1', port });
    services.push({ name: 'metrics', stop: () => metrics.close() });
    log('info', 'metrics listening', { address: `${opts.metricsAddr.slice(0, at)}:${metrics.port}` });
  }
}

/** The CA rotation driver of a control plane, as a service to stop with the others. */
export async function rotationDriverService(state: Node['state'], logger: (message: string, fields?: Record<string, unknown>) => void, audit: AuditSink, caKeys?: CaKeys): Promise<Service> {
  const { startRotationDriver } = await import('../server/rotation/index.js');
  const driver = startRotationDriver({ state, logger, audit, ...(caKeys ? { caKeys } : {}) });
  return { name: 'rotation-driver', stop: () => driver.close() };
}

async function once(node: Node, log: LineLogger): Promise<void> {
  const failing = await runUntilSettled(node.runtime);
  const summary = await summarize(node.state, node.runtime);
  if (failing.length === 0) {
    process.stdout.write(`${summary}\n`);
    log('info', 'node settled', {});
    return;
  }
  const lines = failing.map((s) => `  ${s.name}: ${s.failures} failure(s), last error: ${s.lastError ?? 'unknown'}`);
  process.stderr.write(`${failing.length} controller(s) keep failing:\n${lines.join('\n')}\n`);
  process.stdout.write(`${summary}\n`);
  process.exitCode = 1;
}

export interface Stopping {
  /** Resolves once a signal has stopped the node. */
  done: Promise<void>;
  /** Adds work to run before the node stops (servers first, then the runtime and store). */
  before(step: () => Promise<void>): void;
  /** Stops now (idempotent). */
  stop(reason: string): Promise<void>;
}

/** SIGTERM/SIGINT stop the node cleanly; a second signal while stopping exits at once. */
export function onStopSignal(log: LineLogger, stopNode: () => Promise<void>): Stopping {
  const steps: (() => Promise<void>)[] = [];
  // Timers and store polling do not hold the process open; this does, for as long as the node runs.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let stopped: Promise<void> | undefined;
  let markDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (markDone = resolve));
  const stop = (reason: string): Promise<void> => {
    stopped ??= (async () => {
      if (reason !== 'exit') log('info', 'node stopping', { signal: reason });
      try {
        for (const step of steps) await step();
        await stopNode();
      } finally {
        clearInterval(keepAlive);
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        if (reason !== 'exit') log('info', 'node stopped', {});
        markDone();
      }
    })();
    return stopped;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopped) {
      log('error', 'second signal while stopping: exiting now', { signal });
      process.exit(130);
    }
    stop(signal).catch((err: unknown) => {
      log('error', 'stopping failed', { error: err instanceof Error ? err.message : String(err) });
      process.exitCode = 1;
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return { done, before: (step) => steps.unshift(step), stop };
}
