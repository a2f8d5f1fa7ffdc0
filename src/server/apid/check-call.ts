// POST /v1/check (os:admin: the simulation reads every secret): `trustctl check` on this node. Its controllers run
// `years` ahead over an in-memory copy of the store; the live store is only read. One check runs at a time: each
// takes seconds of this process's CPU.
import { DateTime } from 'luxon';
import type { CaKeys } from '../../config/ca-keys.js';
import type { Clock } from '../../runtime/clock.js';
import type { ResourceRegistry } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';
import { jsonKind } from '../json-object.js';
import { copyIntoMemory, simulate } from '../check/index.js';
import type { CheckReport } from '../check/index.js';
import { ApiError } from './api-error.js';
import type { CheckRequest } from './api-paths.js';
import { readJsonBody, requirePermission } from './router.js';
import type { CallContext } from './router.js';

export const MAX_CHECK_YEARS = 100;

/** `caKeys`: where the node's CAs sign, so the look ahead of a node whose CA keys are in a token can renew through it. */
export function checkCall(state: State, registry: ResourceRegistry, clock: Clock, caKeys?: CaKeys) {
  let running = false;
  return async (ctx: CallContext): Promise<CheckReport> => {
    requirePermission(ctx, 'admin');
    const body = await readJsonBody<Partial<CheckRequest>>(ctx.req);
    const years: unknown = body.years ?? 10;
    if (typeof years !== 'number' || !Number.isInteger(years) || years < 1 || years > MAX_CHECK_YEARS) {
      throw new ApiError(400, `years: expected a whole number of years from 1 to ${MAX_CHECK_YEARS}, got ${typeof years === 'number' ? years : jsonKind(years)}`);
    }
    if (running) throw new ApiError(429, 'a check is already running on this node: try again when it has finished');
    running = true;
    try {
      const from = DateTime.fromMillis(clock.now().toMillis(), { zone: 'utc' });
      return await simulate((simulated) => copyIntoMemory(state, registry, simulated), { from, years, ...(caKeys ? { caKeys } : {}) });
    } finally {
      running = false;
    }
  };
}
