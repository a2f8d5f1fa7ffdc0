// Runs the compiled mocha suite and closes with the line CI reads: `N passed, N failed, N skipped`.
// Usage: node scripts/run-tests.mjs [substring filter on test file paths] [--grep PATTERN] [--build] [--lint]
// `npm test` gives --build --lint: one child (scripts/compile-and-lint.mjs) compiles as tsc does, then lints with eslint
// over the same TypeScript program while the suite runs; a lint failure counts as one failed test, and a compile error
// ends the run before any test. A full lint keeps one core busy for a while (~20 s of CPU) and the suite leaves some of
// the two cores idle as it waits on child processes and sockets: one after the other they took that much longer. The
// lint reads only the files that changed since they last linted clean, with what they import (scripts/lint-cache.mjs).
// Files run in TEST_JOBS worker processes (default 2, one per core here; TEST_JOBS=1 runs them in this process, in
// order). Each file runs whole in one worker, so a file's hooks and state never meet another file's.
import Mocha from 'mocha';
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const grepAt = args.indexOf('--grep');
const grep = grepAt >= 0 ? args.splice(grepAt, 2)[1] : undefined;
const flag = (name) => {
  const at = args.indexOf(name);
  if (at >= 0) args.splice(at, 1);
  return at >= 0;
};
const [withBuild, withLint] = [flag('--build'), flag('--lint')];
// A machine-wide extra CA bundle (NODE_EXTRA_CA_CERTS) is read and parsed by every Node process as it starts: ~40 ms
// each here, and the suite starts hundreds (the crash test alone a hundred). Nothing under test trusts a public CA, so
// the test workers, and every process they start, go without it.
delete process.env.NODE_EXTRA_CA_CERTS;
const checks = withBuild || withLint ? startChecks(withBuild, withLint) : undefined;
const [compiled, lint] = [withBuild ? checks.compiled : undefined, withLint ? checks.linted : undefined];
// Tests that spawn trustctl (or the crash worker) run the esbuild bundle: rebuilt here (under a second, from the
// sources, beside tsc), so a plain `tsc` before this runner never leaves them running an older trustctl than the
// in-process tests.
await import('./bundle.mjs');
if (compiled) {
  const { code, output } = await compiled;
  if (code !== 0) {
    process.stdout.write(`${output}\ntsc failed (exit ${code}): no test ran\n`);
    process.exit(1);
  }
}
const fileFilter = args[0];
const jobs = Number(process.env.TEST_JOBS ?? 2);
if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`TEST_JOBS: expected a whole number >= 1, got ${process.env.TEST_JOBS}`);

// The longest files start first, so the last worker is not left running one of them alone at the end.
const SLOW_FIRST = ['node-crash', 'rotation', 'fuzz', 'check', 'serve', 'etcd'];
const weight = (file) => {
  const at = SLOW_FIRST.findIndex((s) => file.includes(s));
  return at < 0 ? SLOW_FIRST.length : at;
};

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = findTests('dist/test').filter((file) => !fileFilter || file.includes(fileFilter));
const parallel = jobs > 1 && files.length > 1;
const mocha = new Mocha({ reporter: 'spec', timeout: 60_000, grep, ...(parallel ? { parallel: true, jobs } : {}) });
for (const file of parallel ? [...files].sort((a, b) => weight(a) - weight(b)) : files) mocha.addFile(file);
if (!parallel) await mocha.loadFilesAsync();
const runner = mocha.run(async () => {
  const { passes = 0, pending = 0 } = runner.stats ?? {};
  let { failures = 0 } = runner.stats ?? {};
  if (lint) {
    const { code, output, summary } = await lint;
    if (code === 0) console.log(`\n  lint: eslint found no problems${summary ? ` (${summary})` : ''}`);
    else {
      console.log(`\n  lint failed: eslint exited ${code}\n${output}`);
      failures++;
    }
  }
  console.log(`\n${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}`);
  process.exitCode = failures > 0 ? 1 : 0;
  // Something a test left running (a child process, a server) would keep this process, and CI, waiting for ever.
  setTimeout(() => {
    process.stderr.write('the test run left something running (a child process or a server): exiting anyway\n');
    process.exit();
  }, 10_000).unref();
});

/**
 * scripts/compile-and-lint.mjs as a child process: a promise for each step's `{ code, output }`, settled as the step
 * ends (or, should the child die first, with what it printed).
 */
function startChecks(emit, lint) {
  // eslint over a type-checked program allocates a lot of short-lived objects: with a 64 MB young generation (16 MB by
  // default) it spends ~1.5 s less CPU on garbage collection here.
  const flags = [...(emit ? ['--emit'] : []), ...(lint ? ['--lint'] : [])];
  const child = spawn(process.execPath, ['--max-semi-space-size=64', 'scripts/compile-and-lint.mjs', ...flags], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  // A compile error ends the run while the lint could still go on: it goes with this process.
  const stop = () => child.kill();
  process.once('exit', stop);
  let printed = '';
  child.stdout.on('data', (d) => (printed += d));
  child.stderr.on('data', (d) => (printed += d));
  const settle = {};
  const steps = Object.fromEntries(['compiled', 'linted'].map((step) => [step, new Promise((resolve) => (settle[step] = resolve))]));
  child.on('message', ({ step, code, output, summary }) => settle[step]?.({ code, output, summary }));
  child.on('error', (err) => Object.values(settle).forEach((resolve) => resolve({ code: -1, output: String(err) })));
  child.on('close', (code, signal) => {
    process.off('exit', stop);
    // A step already settled stays as it was; one the child never reached failed, with what it printed.
    Object.values(settle).forEach((resolve) => resolve({ code: code || signal || 1, output: printed }));
  });
  return steps;
}
