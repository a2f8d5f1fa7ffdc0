// The services a node runs beside its controllers, chosen by its machine type: apid on every node; trustd and the CA
// rotation driver on a control plane; on a worker the trustd client (its apid certificate), the revocation follower and
// the kubelet CSR client; metrics when asked. They start in that order, each only once the one before runs; if one
// cannot start, those already running are stopped (nothing keeps the process alive with nothing to stop it) and the
// error says which port was taken. They stop in the reverse order.
import type { CaKeys } from '../../config/ca-keys.js';
import type { AuditSink } from '../../controllers/audit/index.js';
import { MACHINE_CONFIG_ID, MachineConfigs, machineConfigOf } from '../../resources/machine-config.js';
import type { MachineConfigSpec } from '../../resources/machine-config.js';
import type { Clock } from '../../runtime/clock.js';
import type { ResourceRegistry } from '../../runtime/resource.js';
import type { RuntimeLogger } from '../../runtime/runtime-context.js';
import type { State } from '../../runtime/state.js';
import type { WatchLimits } from '../apid/watch-slots.js';
import type { ServiceLogs, ServiceName } from '../service-logs.js';

export interface NodeServiceOptions {
  /** Where apid and trustd listen. */
  listenAddress: string;
  /** 0 picks a free port (tests); the ports taken are in NodeServices.ports. */
  apidPort: number;
  trustdPort: number;
  /** Where a worker finds trustd (default: the control-plane endpoint's host, port 50001). */
  trustdEndpoints?: readonly string[];
  /** The cluster's other nodes, that apid forwards `-n` calls to. */
  members?: readonly string[];
  watchLimits?: WatchLimits;
  /** Prometheus metrics over plain HTTP; an empty host listens on 127.0.0.1. */
  metrics?: { host: string; port: number };
  /**
   * The CA rotation driver of a control plane; on unless false. Replicas run it in the elected leader only, on the
   * fenced store; a test that drives rotations by hand (crash seams, short polls) turns it off.
   */
  rotationDriver?: boolean;
  caKeys?: CaKeys;
  /** Judges validity in every service; the system clock by default. */
  clock?: Clock;
  /** The node's log lines per service, served by apid to `trustctl logs`. */
  serviceLogs?: ServiceLogs;
  /** Each service's logger (apid and trustd their own; the rest log as the node, controller-runtime). */
  logger?: (service: ServiceName) => RuntimeLogger;
  /** Appended to the error when a port is taken: how to pick another (serve names its flags). */
  portFix?: string;
}

/** What the services need of a node: its store, its types and its audit trail. */
export interface ServiceNode {
  state: State;
  registry: ResourceRegistry;
  audit: AuditSink;
}

export interface NodeServices {
  /** The ports taken by the services the node runs. */
  ports: { apid: number; trustd?: number; metrics?: number };
  /** Resolves once apid serves with the node's certificate (before that, handshakes fail). */
  ready: Promise<void>;
  stop(): Promise<void>;
}

interface Running {
  name: string;
  stop(): Promise<void>;
}

const DEFAULT_PORT_FIX = 'free it, or give the service another port';

export async function startNodeServices(node: ServiceNode, options: NodeServiceOptions): Promise<NodeServices> {
  const running: Running[] = [];
  try {
    const started = await startEach(running, node, options);
    return { ...started, stop: () => stopAll(running) };
  } catch (err) {
    await stopAll(running).catch(() => undefined);
    if (err instanceof Error && err.message.includes('EADDRINUSE')) throw new Error(`${err.message}; that port is taken (by another process, or by another listener of this node): ${options.portFix ?? DEFAULT_PORT_FIX}`);
    throw err;
  }
}

/** Newest first; one that fails to stop does not keep the others running (the first failure is thrown after). */
async function stopAll(running: Running[]): Promise<void> {
  let failure: Error | undefined;
  for (const service of running.splice(0).reverse()) {
    try {
      await service.stop();
    } catch (err) {
      failure ??= new Error(`${service.name} did not stop cleanly: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failure) throw failure;
}

/** The stored machine config's type (`worker`, `controlplane`...), undefined before a config is stored. */
export async function storedMachineType(state: State): Promise<string | undefined> {
  const config = await state.find<MachineConfigSpec>({ namespace: MachineConfigs.namespace, type: MachineConfigs.type, id: MACHINE_CONFIG_ID });
  return config ? machineConfigOf(config).type : undefined;
}

/** Starts each service in turn, adding it to `running` as soon as it runs (so a later failure can stop it). */
async function startEach(running: Running[], node: ServiceNode, options: NodeServiceOptions): Promise<Omit<NodeServices, 'stop'>> {
  const { state, registry, audit } = node;
  const loggerOf = options.logger ?? (() => () => undefined);
  const logger = loggerOf('controller-runtime');
  const shared = { ...(options.clock ? { clock: options.clock } : {}), ...(options.caKeys ? { caKeys: options.caKeys } : {}) };
  // A node with no config yet serves as a control plane would: its trustd answers 503 until it can sign.
  const worker = (await storedMachineType(state)) === 'worker';
  const { startApid } = await import('../apid/index.js');
  const apid = await startApid({
    state,
    registry,
    host: options.listenAddress,
    port: options.apidPort,
    logger: loggerOf('apid'),
    ...(options.serviceLogs ? { serviceLogs: options.serviceLogs } : {}),
    forward: { members: options.members ?? [] },
    ...(options.watchLimits ? { watchLimits: options.watchLimits } : {}),
    audit,
    ...shared,
  });
  running.push({ name: 'apid', stop: () => apid.close() });
  const ports: NodeServices['ports'] = { apid: apid.port };
  if (worker) {
    const { startKubeletCsrClient, startRevocationFollower, startTrustdClient } = await import('../trustd-client/index.js');
    const client = { state, logger, ...(options.trustdEndpoints?.length ? { endpoints: [...options.trustdEndpoints] } : {}), ...(options.clock ? { clock: options.clock } : {}) };
    const trustdClient = startTrustdClient(client);
    running.push({ name: 'trustd-client', stop: () => trustdClient.close() });
    const follower = startRevocationFollower(client);
    running.push({ name: 'revocation-follower', stop: () => follower.close() });
    const kubelet = startKubeletCsrClient(client);
    running.push({ name: 'kubelet-csr-client', stop: () => kubelet.close() });
  } else {
    const { startTrustd } = await import('../trustd/index.js');
    const trustd = await startTrustd({ state, host: options.listenAddress, port: options.trustdPort, logger: loggerOf('trustd'), audit, ...shared });
    running.push({ name: 'trustd', stop: () => trustd.close() });
    ports.trustd = trustd.port;
    if (options.rotationDriver !== false) running.push(await rotationDriverService(state, logger, audit, shared));
  }
  if (options.metrics) {
    const { startMetricsServer } = await import('../metrics.js');
    const metrics = await startMetricsServer({ state, host: options.metrics.host || '127.0.0.1', port: options.metrics.port });
    running.push({ name: 'metrics', stop: () => metrics.close() });
    ports.metrics = metrics.port;
    logger('metrics listening', { address: `${options.metrics.host}:${metrics.port}` });
  }
  return { ports, ready: apid.ready };
}

/** The CA rotation driver of a control plane, as a service to stop with the others (a replica's leader runs it alone). */
export async function rotationDriverService(state: State, logger: RuntimeLogger, audit: AuditSink, shared: { clock?: Clock; caKeys?: CaKeys }): Promise<Running> {
  const { startRotationDriver } = await import('../rotation/index.js');
  const driver = startRotationDriver({ state, logger, audit, ...shared });
  return { name: 'rotation-driver', stop: () => driver.close() };
}
