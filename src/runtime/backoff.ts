// Retry delays for a failing controller: COSI's exponential schedule (500 ms, x1.5 per failure, capped at 60 s) with
// jitter, so controllers that fail together (a store outage) do not retry in lockstep.
export interface BackoffPolicy {
  initialMs: number;
  multiplier: number;
  maxMs: number;
  /** The delay is spread uniformly over [nominal x (1 - jitter), nominal x (1 + jitter)], then capped at maxMs. */
  jitter: number;
}

export const defaultBackoff: BackoffPolicy = { initialMs: 500, multiplier: 1.5, maxMs: 60_000, jitter: 0.2 };

/** The nominal delay before retry number `failures` (1 = after the first failure), before jitter. */
export function nominalDelay(failures: number, policy: BackoffPolicy = defaultBackoff): number {
  if (!Number.isInteger(failures) || failures < 1) throw new RangeError(`failures must be an integer >= 1, got ${failures}`);
  return Math.min(policy.initialMs * policy.multiplier ** (failures - 1), policy.maxMs);
}

/** The jittered delay in whole milliseconds; `random` returns a number in [0, 1) like Math.random. */
export function backoffDelay(failures: number, random: () => number = Math.random, policy: BackoffPolicy = defaultBackoff): number {
  const nominal = nominalDelay(failures, policy);
  const spread = nominal * (1 + policy.jitter * (2 * random() - 1));
  return Math.round(Math.min(spread, policy.maxMs));
}
