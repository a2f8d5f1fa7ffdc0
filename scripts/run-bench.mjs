// Runs every compiled benchmark in dist/bench (or those whose path contains the first argument), one process each.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
// The gen secrets bench runs trustctl's bundle: never an older one than the sources.
import './bundle.mjs';

const filter = process.argv[2];
const benches = readdirSync('dist/bench').filter((f) => f.endsWith('.bench.js') && (!filter || f.includes(filter))).sort();
let failed = 0;
for (const file of benches) {
  console.log(`\n## ${file.replace(/\.bench\.js$/, '')}`);
  const run = spawnSync(process.execPath, ['--expose-gc', `dist/bench/${file}`], { stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
