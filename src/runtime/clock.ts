// Time for the runtime: the system clock in production, a manual clock in tests and simulations.
import { DateTime, Settings } from 'luxon';

// Every time here is ISO-8601 in UTC, and nothing is formatted for a locale. Without a default locale luxon asks ICU for
// the system's at the first DateTime, ~20 ms of every process's start here; naming one skips that and changes no output.
Settings.defaultLocale = 'en-US';

export interface Clock {
  now(): DateTime;
  /** Calls `fire` at or after `at`; returns a cancel function. A manual clock fires only when advanced. */
  schedule(at: DateTime, fire: () => void): () => void;
  /**
   * Registers asynchronous work that timer callbacks start (a runtime's reconciles), so that a manual clock can wait for
   * it to settle before firing the next timer. Returns an unregister function. The system clock has no use for it.
   */
  trackWork?(settled: () => Promise<void>): () => void;
}

export const systemClock: Clock = {
  now: () => DateTime.utc(),
  schedule(at, fire) {
    // setTimeout cannot wait longer than ~24.8 days; re-arm in steps for far-away times (10-year CAs).
    const MAX = 2 ** 31 - 1;
    let handle: NodeJS.Timeout;
    const arm = () => {
      const wait = at.toMillis() - Date.now();
      if (wait <= 0) return fire();
      handle = setTimeout(wait > MAX ? arm : fire, Math.min(wait, MAX));
      handle.unref?.();
    };
    arm();
    return () => clearTimeout(handle);
  },
};

export { ManualClock } from './manual-clock.js';
