// Shared set-up for the runtime tests: a real SQLite file in a temp dir, a manual clock and small test resource types.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { ManualClock } from '../../src/runtime/clock.js';
import type { Controller } from '../../src/runtime/controller.js';
import { ValidationError } from '../../src/runtime/errors.js';
import { ResourceRegistry, defineResource, type ResourceDefinition } from '../../src/runtime/resource.js';
import { Runtime, type RuntimeOptions } from '../../src/runtime/runtime.js';
import { openSqliteState } from '../../src/runtime/sqlite/index.js';
import type { State } from '../../src/runtime/state.js';

export interface Value {
  value: number;
}

function valueType(type: string): ResourceDefinition<Value> {
  return defineResource<Value>({
    type,
    aliases: [type.toLowerCase()],
    namespace: 'default',
    sensitive: false,
    printColumns: [{ name: 'VALUE', value: (r) => String(r.spec.value) }],
    validate(spec) {
      const value = (spec as { value?: unknown } | null)?.value;
      if (typeof value !== 'number') throw new ValidationError('value', `expected a number, got ${typeof value}`);
      return { value };
    },
  });
}

export const Sources = valueType('Sources');
export const Doubles = valueType('Doubles');
export const Quads = valueType('Quads');
export const Totals = valueType('Totals');
export const Others = valueType('Others');

export const START = DateTime.fromISO('2025-01-01T00:00:00.000Z', { zone: 'utc' });

export interface Harness {
  clock: ManualClock;
  registry: ResourceRegistry;
  state: State;
  runtime: Runtime;
  /** Creates or updates a user-owned Sources resource. */
  setSource(id: string, value: number): Promise<void>;
  close(): Promise<void>;
}

export async function harness(controllers: Controller[] = [], options: Partial<RuntimeOptions> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'trustplane-runtime-'));
  const clock = new ManualClock(START);
  const registry = new ResourceRegistry([Sources, Doubles, Quads, Totals, Others]);
  const state = await openSqliteState({ path: join(dir, 'state.db'), registry, clock, encryptionKey: 'none' });
  const runtime = new Runtime({ state, registry, clock, ...options });
  for (const c of controllers) runtime.register(c);
  return {
    clock,
    registry,
    state,
    runtime,
    async setSource(id, value) {
      await state.modify<Value>({ namespace: 'default', type: 'Sources', id }, () => ({ spec: { value } }));
    },
    async close() {
      await runtime.stop();
      await state.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A promise with its resolve function exposed, to hold a reconcile in flight. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Lets pending callbacks and promise chains run for a few event-loop turns. */
export async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
