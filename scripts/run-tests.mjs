// Runs the compiled mocha suite and closes with the line CI reads: `N passed, N failed, N skipped`.
// Usage: node scripts/run-tests.mjs [substring filter on test file paths] [--grep PATTERN]
import Mocha from 'mocha';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const grepAt = args.indexOf('--grep');
const grep = grepAt >= 0 ? args.splice(grepAt, 2)[1] : undefined;
const fileFilter = args[0];

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const mocha = new Mocha({ reporter: 'spec', timeout: 60_000, grep });
for (const file of findTests('dist/test')) if (!fileFilter || file.includes(fileFilter)) mocha.addFile(file);
await mocha.loadFilesAsync();
const runner = mocha.run(() => {
  const { passes = 0, failures = 0, pending = 0 } = runner.stats ?? {};
  console.log(`\n${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}`);
  process.exitCode = failures > 0 ? 1 : 0;
  // Something a test left running (a child process, a server) would keep this process, and CI, waiting for ever.
  setTimeout(() => {
    process.stderr.write('the test run left something running (a child process or a server): exiting anyway\n');
    process.exit();
  }, 10_000).unref();
});
