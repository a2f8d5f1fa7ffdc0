// Opens the store a `--store` value names: `etcd://HOST:PORT[,HOST:PORT...]/PREFIX` for the distributed backend,
// `sqlite:PATH` (or a plain path) for the embedded default. Also picks the leader elector that fits the store.
import type { Clock } from './clock.js';
import { ValidationError } from './errors.js';
import type { KeyEnvironment, StateKeySource } from './encryption/state-key.js';
import type { LeaderElector } from './leader-election.js';
import type { ResourceRegistry } from './resource.js';
import { openSqliteState } from './sqlite/index.js';
import type { State } from './state.js';

export interface StoreUrlOptions {
  registry: ResourceRegistry;
  clock?: Clock;
  /** As the backends take it; default 'auto' (TRUSTPLANE_STATE_KEY when set, else the key file). */
  encryptionKey?: StateKeySource;
  /** Where TRUSTPLANE_STATE_KEY is read (default: process.env). */
  keyEnv?: KeyEnvironment;
  /** etcd only: the key file for 'file'/'auto' when TRUSTPLANE_STATE_KEY is not set (must end in `.key`). */
  keyFile?: string;
  /** etcd only: deadline of each call in ms (default 5 s). */
  callTimeoutMs?: number;
}

export async function openStateFromUrl(url: string, options: StoreUrlOptions): Promise<State> {
  const { registry, clock, encryptionKey, keyEnv } = options;
  if (url.startsWith('etcd://')) {
    // Loaded only here: the etcd client (gRPC, protobuf) costs a SQLite node's every start a third of a second.
    const { openEtcdState } = await import('./etcd/index.js');
    return openEtcdState({ url, registry, clock, encryptionKey, keyEnv, keyFile: options.keyFile, callTimeoutMs: options.callTimeoutMs });
  }
  const path = url.startsWith('sqlite://') ? url.slice('sqlite://'.length) : url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
  if (path === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    throw new ValidationError('store', `"${url}" is not a store: give etcd://HOST:PORT[,HOST:PORT...]/PREFIX, sqlite:PATH or a file path`);
  }
  return openSqliteState({ path, registry, clock, encryptionKey, keyEnv });
}

/**
 * The elector replicas of a shared store campaign with; undefined for a store only one node uses (SQLite), whose
 * runtime simply runs. `ttlSeconds` bounds how long a dead leader holds the role (default 5).
 */
export async function leaderElectorFor(state: State, options: { name: string; ttlSeconds?: number }): Promise<LeaderElector | undefined> {
  const { EtcdLeaderElector, EtcdState } = await import('./etcd/index.js');
  return state instanceof EtcdState ? new EtcdLeaderElector({ state, ...options }) : undefined;
}
