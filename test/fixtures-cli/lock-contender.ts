// A child process that races for the state-directory lock when told: reads `try N` / `release N` lines on stdin and
// answers `won N`, `lost N`, `error N <message>` or `released N` on stdout, so a test can start every contender's
// attempt at once and keep the winner holding the lock until every other contender has tried.
import { createInterface } from 'node:readline';
import { lockStateDir } from '../../src/cli/state-lock.js';
import type { StateLock } from '../../src/cli/state-lock.js';

const stateDir = process.argv[2];
let held: StateLock | undefined;

createInterface({ input: process.stdin }).on('line', (line) => {
  const [verb, round] = line.split(' ');
  if (verb === 'try') {
    try {
      held = lockStateDir(stateDir);
      process.stdout.write(`won ${round}\n`);
    } catch (err) {
      const message = (err as Error).message;
      process.stdout.write(message.startsWith('another trustctl serve') ? `lost ${round}\n` : `error ${round} ${message}\n`);
    }
  } else if (verb === 'release') {
    held?.release();
    held = undefined;
    process.stdout.write(`released ${round}\n`);
  }
});
