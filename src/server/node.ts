// A node: its store (one SQLite file in the state directory, keys sealed with a key file beside it), the resource
// registry and the runtime with the node's controllers. Tests and simulations open nodes through this; node-assembly/
// starts a whole node (its services too) from it, as `serve` does.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AuditRecorder } from '../controllers/audit/index.js';
import type { AuditRecorderOptions } from '../controllers/audit/index.js';
import { nodeControllers } from '../controllers/index.js';
import type { NodeControllerOptions } from '../controllers/index.js';
import { nodeRegistry } from '../resources/index.js';
import type { Clock } from '../runtime/clock.js';
import { ControllerStatuses } from '../runtime/controller-status.js';
import type { ResourceRegistry } from '../runtime/resource.js';
import type { KeyEnvironment } from '../runtime/encryption/state-key.js';
import { Runtime } from '../runtime/runtime.js';
import type { RuntimeLogger } from '../runtime/runtime-context.js';
import { openSqliteState } from '../runtime/sqlite/index.js';
import type { State } from '../runtime/state.js';

export const STATE_FILE = 'state.db';

export interface NodeOptions extends Omit<NodeControllerOptions, 'encryptedAtRest' | 'audit'> {
  stateDir: string;
  /** Where the store's TRUSTPLANE_STATE_KEY is read (default: process.env). */
  keyEnv?: KeyEnvironment;
  clock?: Clock;
  logger?: RuntimeLogger;
  /** How the audit trail signs its head and how long it keeps records (defaults in audit-recorder.ts). */
  audit?: Omit<AuditRecorderOptions, 'state' | 'clock' | 'onError'>;
}

export interface Node {
  state: State;
  registry: ResourceRegistry;
  runtime: Runtime;
  /** The node's audit trail: hand it to apid, trustd and the rotation driver. Its timer runs once audit.start(). */
  audit: AuditRecorder;
  stop(): Promise<void>;
}

export function nodeResourceRegistry(): ResourceRegistry {
  return nodeRegistry([ControllerStatuses]);
}

/** `readOnly` (readers such as `trustctl get`): the store must exist; nothing is created, migrated or written. */
/** `keyEnv`: where TRUSTPLANE_STATE_KEY is read (default: process.env; a command run in process gives its io's). */
export async function openNodeState(stateDir: string, clock?: Clock, readOnly = false, keyEnv?: KeyEnvironment): Promise<{ state: State; registry: ResourceRegistry }> {
  if (!readOnly) mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const registry = nodeResourceRegistry();
  const state = await openSqliteState({ path: join(stateDir, STATE_FILE), registry, readOnly, ...(clock ? { clock } : {}), ...(keyEnv ? { keyEnv } : {}) });
  return { state, registry };
}

/**
 * Opens a shared store (`etcd://HOST:PORT[,...]/PREFIX`) for a replica. Replicas must share the sealing key: set
 * TRUSTPLANE_STATE_KEY on each, or copy `store.key` from the first replica's state directory to the others.
 */
export async function openSharedNodeState(store: string, stateDir: string, clock?: Clock, keyEnv?: KeyEnvironment): Promise<{ state: State; registry: ResourceRegistry }> {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const registry = nodeResourceRegistry();
  // Loaded only here: the etcd client is heavy and a SQLite node never needs it.
  const { openStateFromUrl } = await import('../runtime/store-url.js');
  const state = await openStateFromUrl(store, { registry, keyFile: join(stateDir, 'store.key'), ...(clock ? { clock } : {}), ...(keyEnv ? { keyEnv } : {}) });
  return { state, registry };
}

/** The audit recorder of a node's store; failed appends go to the node's log. */
export function nodeAuditRecorder(state: State, options: Pick<NodeOptions, 'clock' | 'logger' | 'audit'>): AuditRecorder {
  const log = options.logger;
  return new AuditRecorder({ ...options.audit, state, ...(options.clock ? { clock: options.clock } : {}), ...(log ? { onError: (message, fields) => log(message, fields) } : {}) });
}

/** A runtime over `state` with the node's controllers registered; call start() to run them. */
export function nodeRuntime(state: State, registry: ResourceRegistry, options: Omit<NodeOptions, 'stateDir' | 'audit'> & { audit?: AuditRecorder }): Runtime {
  const runtime = new Runtime({ state, registry, ...(options.clock ? { clock: options.clock } : {}), ...(options.logger ? { logger: options.logger } : {}) });
  for (const c of nodeControllers({ ...options, encryptedAtRest: state.encryptedAtRest })) runtime.register(c);
  return runtime;
}

/** Opens the store and registers the controllers; call runtime.start() to run them. */
export async function openNode(options: NodeOptions): Promise<Node> {
  const { state, registry } = await openNodeState(options.stateDir, options.clock, false, options.keyEnv);
  const audit = nodeAuditRecorder(state, options);
  const runtime = nodeRuntime(state, registry, { ...options, audit });
  return {
    state,
    registry,
    runtime,
    audit,
    async stop() {
      await runtime.stop();
      await audit.close();
      await state.close();
    },
  };
}
