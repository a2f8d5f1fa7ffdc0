// The rotation tests' probers check a property "throughout" a rotation by sampling it in rounds. Unpaced, a prober ran
// rounds back to back for as long as the rotation took: it sampled no better than the nodes could change (a rotation
// step is a call and a reconcile, tens of milliseconds), but it took both cores from the nodes under test and from the
// suite's other worker. Here a round starts at most every `paceMs`; a round that takes longer starts the next at once.
import { setTimeout as sleep } from 'node:timers/promises';

export const PROBE_PACE_MS = 20;

/** Runs `round` until `stopped()`; returns the number of rounds run. */
export async function pacedRounds(stopped: () => boolean, round: () => Promise<void>, paceMs = PROBE_PACE_MS): Promise<number> {
  let rounds = 0;
  while (!stopped()) {
    const began = performance.now();
    await round();
    rounds++;
    const rest = paceMs - (performance.now() - began);
    if (rest > 0 && !stopped()) await sleep(rest);
  }
  return rounds;
}
