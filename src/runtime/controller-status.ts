// ControllerStatuses: how each controller is doing (failing? since when? next retry?), written by the runtime itself
// (owner "runtime") so that `get controllerstatus` and watchers see it like any other resource.
import { ValidationError } from './errors.js';
import { defineResource } from './resource.js';

export type ControllerState = 'idle' | 'running' | 'backoff';

export interface ControllerStatus {
  name: string;
  state: ControllerState;
  /** Consecutive failures; 0 after a success. */
  failures: number;
  /** The message of the last failure, kept after recovery until the next failure replaces it. */
  lastError?: string;
  /** ISO time of the next retry while in backoff. */
  nextRetry?: string;
  /** ISO time the last reconcile finished, successful or not. */
  lastReconcile?: string;
  /** ISO time the last successful reconcile finished. */
  lastSuccess?: string;
  /** ISO time the runtime will wake the controller at its own request. */
  requeueAt?: string;
  /** What the controller said last (ReconcileResult.message). */
  message?: string;
  /** Reconciles run since the runtime started. */
  reconciles: number;
}

export const RUNTIME_OWNER = 'runtime';

const optionalStrings = ['lastError', 'nextRetry', 'lastReconcile', 'lastSuccess', 'requeueAt', 'message'] as const;
const states: readonly ControllerState[] = ['idle', 'running', 'backoff'];

function validateStatus(spec: unknown): ControllerStatus {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new ValidationError('', 'expected a map');
  const s = spec as Record<string, unknown>;
  if (typeof s.name !== 'string' || s.name === '') throw new ValidationError('name', 'expected a non-empty string');
  if (!states.includes(s.state as ControllerState)) {
    throw new ValidationError('state', `expected one of ${states.join(', ')}, got ${JSON.stringify(s.state)}`);
  }
  for (const field of ['failures', 'reconciles'] as const) {
    const n = s[field];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new ValidationError(field, `expected an integer >= 0, got ${JSON.stringify(n)}`);
  }
  const out: ControllerStatus = {
    name: s.name,
    state: s.state as ControllerState,
    failures: s.failures as number,
    reconciles: s.reconciles as number,
  };
  for (const field of optionalStrings) {
    const v = s[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new ValidationError(field, `expected a string, got ${typeof v}`);
    out[field] = v;
  }
  return out;
}

export const ControllerStatuses = defineResource<ControllerStatus>({
  type: 'ControllerStatuses',
  aliases: ['controllerstatus', 'controllerstatuses'],
  namespace: 'runtime',
  sensitive: false,
  printColumns: [
    { name: 'STATE', value: (r) => r.spec.state },
    { name: 'FAILURES', value: (r) => String(r.spec.failures) },
    { name: 'NEXT RETRY', value: (r) => r.spec.nextRetry ?? '' },
    { name: 'LAST ERROR', value: (r) => r.spec.lastError ?? '' },
    { name: 'MESSAGE', value: (r) => r.spec.message ?? '' },
  ],
  validate: validateStatus,
});
