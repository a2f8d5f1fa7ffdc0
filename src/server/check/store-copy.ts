// The check's private copy of a node's store: every resource read through a read-only open of the live store (which
// unseals sensitive specs with the node's key) and written into an in-memory store, so the simulation can run the
// controllers for years without a single write reaching the node's file.
import { AUDIT_NAMESPACE } from '../../resources/audit-records.js';
import { openSqliteState } from '../../runtime/sqlite/index.js';
import type { BatchOp, State } from '../../runtime/state.js';
import { openNodeState } from '../node.js';
import type { ResourceRegistry } from '../../runtime/resource.js';
import type { Clock } from '../../runtime/clock.js';
import type { KeyEnvironment } from '../../runtime/encryption/state-key.js';

export interface StoreCopy {
  state: State;
  registry: ResourceRegistry;
  /** Whether the live store seals its secrets: the copy's security status must say what the node's says. */
  encryptedAtRest: boolean;
}

/** Reads every resource of `source` but the audit trail and writes it, with its owner, into a new in-memory store stamped by `clock`. */
export async function copyIntoMemory(source: State, registry: ResourceRegistry, clock: Clock): Promise<StoreCopy> {
  const ops: BatchOp[] = [];
  for (const def of registry.all()) {
    // The audit trail (up to 100,000 records) drives no controller: the simulation needs none of it.
    if (def.namespace === AUDIT_NAMESPACE) continue;
    for (const r of await source.list({ namespace: def.namespace, type: def.type })) {
      const { namespace, type, id, labels, annotations, finalizers } = r.metadata;
      ops.push({ op: 'create', resource: { metadata: { namespace, type, id, labels, annotations, finalizers }, spec: r.spec }, owner: r.metadata.owner });
    }
  }
  // Unsealed: the copy lives in this process's memory only, and sealing each write would only slow the simulation.
  const state = await openSqliteState({ path: ':memory:', registry, clock, encryptionKey: 'none' });
  try {
    if (ops.length > 0) await state.batch(ops);
  } catch (err) {
    await state.close();
    throw err;
  }
  return { state, registry, encryptedAtRest: source.encryptedAtRest };
}

/** Opens the node's store in `stateDir` read-only and copies it; the live store is closed before this returns. */
export async function copyStateDir(stateDir: string, clock: Clock, keyEnv?: KeyEnvironment): Promise<StoreCopy> {
  const { state, registry } = await openNodeState(stateDir, undefined, true, keyEnv);
  try {
    return await copyIntoMemory(state, registry, clock);
  } finally {
    await state.close();
  }
}
