// Seed and size of every fuzz property. `npm test` runs a fixed seed and few cases, so a failure there is
// reproducible from the log alone; `npm run fuzz` sets FUZZ_RUNS (and FUZZ_SEED=random) to run far more.
import fc from 'fast-check';
import type { IAsyncPropertyWithHooks, IPropertyWithHooks, Parameters } from 'fast-check';

const DEFAULT_SEED = 20261205;

function seedFromEnv(): number {
  const text = process.env.FUZZ_SEED;
  if (!text) return DEFAULT_SEED;
  if (text === 'random') return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(text);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer or "random", got "${text}"`);
  return seed;
}

/** One seed per process, so every property of a run can be replayed with FUZZ_SEED=<seed>. */
export const FUZZ_SEED = seedFromEnv();
const RUNS = Number(process.env.FUZZ_RUNS ?? 0) || undefined;
export const LONG_RUN = RUNS !== undefined;

/** `fast` is the case count for `npm test`; FUZZ_RUNS scales it (a property that costs a request runs a tenth). */
export function numRuns(fast: number, costly = false): number {
  if (!RUNS) return fast;
  return Math.max(fast, costly ? Math.ceil(RUNS / 10) : RUNS);
}

const totals: { name: string; runs: number }[] = [];

function settings<T>(fast: number, costly: boolean): Parameters<T> {
  // A long run stops a property after 5 minutes rather than running for ever; the cases run are still reported.
  return { seed: FUZZ_SEED, numRuns: numRuns(fast, costly), ...(LONG_RUN ? { interruptAfterTimeLimit: 300_000 } : {}) };
}

function report<T>(name: string, details: fc.RunDetails<T>): void {
  totals.push({ name, runs: details.numRuns });
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? `\n\n${(details.errorInstance.stack ?? details.errorInstance.message).split("\n").slice(0, 8).join("\n")}` : '';
    throw new Error(`${name}: ${fc.defaultReportMessage(details) ?? 'property failed'}${cause}`);
  }
  // Printed in long runs only, so that `npm test` output stays one line per test.
  if (LONG_RUN) console.log(`      fuzz: ${name}: ${details.numRuns} cases, seed ${FUZZ_SEED}${details.interrupted ? ' (time limit reached)' : ''}`);
}

/** Runs a synchronous property with the run's seed; throws fast-check's report (seed, path, counterexample) on failure. */
export function fuzz<T>(name: string, property: IPropertyWithHooks<T>, fast = 200): void {
  report(name, fc.check(property, settings<T>(fast, false)));
}

/** The same for an asynchronous property; `costly` marks one whose cases each cost a network round trip. */
export async function fuzzAsync<T>(name: string, property: IAsyncPropertyWithHooks<T>, fast = 50, costly = true): Promise<void> {
  // a case that hangs (a request never answered) fails as that case, with its input, instead of timing out the test
  report(name, await fc.check(property, { ...settings<T>(fast, costly), timeout: 15_000 }));
}

/** Counts the cases of a test that samples its inputs itself (the differential test runs them in one batch). */
export function recordCases(name: string, runs: number): void {
  totals.push({ name, runs });
  if (LONG_RUN) console.log(`      fuzz: ${name}: ${runs} cases, seed ${FUZZ_SEED}`);
}

/** Every property run so far in this process with its case count (printed once at the end of a long run). */
export function fuzzTotals(): readonly { name: string; runs: number }[] {
  return totals;
}

// A root-level hook (this module is loaded by every fuzz file): the run's total, which `npm run fuzz` ends with.
after(() => {
  if (!LONG_RUN) return;
  const cases = totals.reduce((sum, t) => sum + t.runs, 0);
  console.log(`\nfuzz: ${totals.length} properties, ${cases} cases, seed ${FUZZ_SEED}`);
});
