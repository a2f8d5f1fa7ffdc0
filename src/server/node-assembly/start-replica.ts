// One replica of a node whose store is shared (etcd): every replica serves apid (and trustd on control planes) from the
// shared store, with the same services as a node of its own (node-services.ts); the controllers and the CA rotation
// driver run only in the elected leader, on a fenced view of the store, so a deposed leader cannot write what its
// successor writes.
import { leaderElectorFor } from '../../runtime/store-url.js';
import { runWhileLeader } from '../../runtime/leader-election.js';
import type { ResourceRegistry } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';
import type { AuditRecorder } from '../../controllers/audit/index.js';
import { nodeAuditRecorder, nodeRuntime, openSharedNodeState } from '../node.js';
import type { NodeOptions } from '../node.js';
import type { NodeServiceOptions, NodeServices } from './node-services.js';
import { rotationDriverService, startNodeServices, storedMachineType } from './node-services.js';
import { prepareStore } from './prepare-store.js';
import type { StoreHooks } from './prepare-store.js';
import { once } from './stop-once.js';

export interface ReplicaStore {
  state: State;
  registry: ResourceRegistry;
  /** One trail for the shared store: every replica appends to it (the head's compare-and-swap orders them). */
  audit: AuditRecorder;
}

export interface StartReplicaOptions extends StoreHooks<ReplicaStore> {
  /** `etcd://HOST:PORT[,HOST:PORT]/PREFIX` */
  store: string;
  /** This replica's name in the election (serve: hostname/pid). */
  name: string;
  /** stateDir holds the sealing key file (openSharedNodeState says how replicas share it). */
  node: NodeOptions;
  /** The rotation driver is the leader's (rotationDriver is ignored here). */
  services: Omit<NodeServiceOptions, 'caKeys' | 'clock' | 'rotationDriver'>;
}

export interface RunningReplica extends ReplicaStore {
  ports: NodeServices['ports'];
  ready: Promise<void>;
  /** Rejects when the election fails for good (an error the elector does not retry); resolves once stopped. */
  leadership: Promise<void>;
  /** Services first, then resigning (the controllers stop), then the audit trail and the store. */
  stop(): Promise<void>;
}

export async function startReplica(options: StartReplicaOptions): Promise<RunningReplica> {
  const { caKeys, clock } = options.node;
  const logger = options.node.logger ?? (() => undefined);
  const { state, registry } = await openSharedNodeState(options.store, options.node.stateDir, clock, options.node.keyEnv);
  const audit = nodeAuditRecorder(state, options.node).start();
  const elector = await leaderElectorFor(state, { name: options.name });
  let services: NodeServices | undefined;
  let loop: ReturnType<typeof runWhileLeader> | undefined;
  const stop = once(async () => {
    await services?.stop();
    await loop?.stop();
    await audit.close();
    await state.close();
  });
  try {
    if (!elector) throw new Error(`${options.store}: replicas need a store that elects a leader (etcd://...)`);
    const shared = { ...(caKeys ? { caKeys } : {}), ...(clock ? { clock } : {}) };
    const store = { state, registry, audit };
    await prepareStore(store, options);
    services = await startNodeServices(store, { ...options.services, ...shared, rotationDriver: false });
    const type = await storedMachineType(state);
    const controlPlane = type !== undefined && type !== 'worker';
    loop = runWhileLeader({
      elector,
      async lead(term) {
        const runtime = nodeRuntime(term.state, registry, { ...options.node, audit });
        await runtime.start();
        void runtime.settled().then(() => {
          if (!runtime.stopped) logger('leader settled', {});
        });
        // One driver per rotation, like the controllers: two replicas moving the same CARotation would race.
        const driver = controlPlane ? await rotationDriverService(term.state, logger, audit, shared) : undefined;
        return async () => {
          await driver?.stop();
          await runtime.stop();
        };
      },
      onChange: (event, holder, reason) => logger(event === 'elected' ? 'leading: controllers running here' : 'no longer leading', { holder, ...(reason ? { reason } : {}) }),
    });
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return { state, registry, audit, ports: services.ports, ready: services.ready, leadership: loop.done, stop };
}
