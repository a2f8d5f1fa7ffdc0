// The launcher runs a CommonJS bundle with V8's code cache for it (src/cli/bundle-launcher.ts). Each case starts a
// process: the cache is written as a process exits, and V8 takes or refuses it as a script is compiled.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WRITE_CODE_CACHE_ENV } from '../../src/cli/bundle-launcher.js';

const LAUNCHER = pathToFileURL(resolve(process.cwd(), 'dist/src/cli/bundle-launcher.js')).href;

interface Launch {
  cache: string;
  stdout: string;
  stderr: string;
  status: number | null;
}

/** `node [flags] -e <run bundle>`: the bundle's output, and what the launcher says of the cache on stderr's last line. */
function launch(bundle: string, options: { write?: boolean; flags?: string[]; args?: string[] } = {}): Launch {
  const code = `import(${JSON.stringify(LAUNCHER)}).then((m) => { const r = m.runBundle(${JSON.stringify(bundle)}); process.on('exit', () => process.stderr.write('cache=' + r.cache + '\\n')); })`;
  const env = { PATH: process.env.PATH, ...(options.write ? { [WRITE_CODE_CACHE_ENV]: '1' } : {}) };
  const r = spawnSync(process.execPath, [...(options.flags ?? []), '-e', code, '--', ...(options.args ?? [])], { encoding: 'utf8', env });
  const cache = /cache=(\w+)\n$/.exec(r.stderr)?.[1] ?? `none (stderr: ${r.stderr})`;
  return { cache, stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe('the bundle launcher (V8 code cache beside a CommonJS bundle)', function () {
  this.timeout(30_000);
  let dir: string;
  let bundle: string;
  // A bundle as esbuild writes one: a `#!` line, CommonJS, a require of a builtin and of a relative file, a function
  // that runs only when called (so the cache has something compiled lazily), and an error's stack naming the bundle.
  const text = (answer: number) =>
    [
      '#!/usr/bin/env node',
      "const { sep } = require('node:path');",
      "const helper = require('./helper.cjs');",
      `function answer() { return ${answer}; }`,
      "console.log(JSON.stringify({ answer: answer(), sep, helper, file: __filename, dir: __dirname, args: process.argv.slice(1), exportsIsModuleExports: exports === module.exports, line: new Error('x').stack.split('\\n')[1] }));",
      '',
    ].join('\n');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tp-launcher-'));
    bundle = join(dir, 'program.cjs');
    writeFileSync(bundle, text(42));
    writeFileSync(join(dir, 'helper.cjs'), "module.exports = 'helped';\n");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the bundle as node would (its own file and directory, require beside it, argv), with no cache at first', () => {
    const r = launch(bundle, { args: ['a', 'b'] });
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.include({ answer: 42, sep: '/', helper: 'helped', file: bundle, dir, args: ['a', 'b'], exportsIsModuleExports: true });
    // The `#!` line kept as a comment: the stack names the bundle's own line 5, column for column.
    expect(JSON.parse(r.stdout).line).to.contain(`${bundle}:5:`);
    expect(r.cache).to.equal('absent');
    expect(existsSync(`${bundle}.cache`)).to.equal(false);
  });

  it('writes the cache only when asked, headed by the SHA-256 of the bundle, and the next start uses it', () => {
    expect(launch(bundle).cache).to.equal('absent');
    expect(existsSync(`${bundle}.cache`), 'written without being asked').to.equal(false);
    const writing = launch(bundle, { write: true });
    expect(writing.cache).to.equal('absent');
    const bytes = readFileSync(`${bundle}.cache`);
    expect(bytes.subarray(0, 32).equals(createHash('sha256').update(readFileSync(bundle)).digest())).to.equal(true);
    expect(bytes.length).to.be.greaterThan(32);
    expect(statSync(`${bundle}.cache`).mode & 0o777).to.equal(0o644);

    const cached = launch(bundle);
    expect(cached.cache).to.equal('used');
    expect(JSON.parse(cached.stdout).answer).to.equal(42);
  });

  it('never uses a cache from another build, even one V8 would take (same length, same lines)', () => {
    launch(bundle, { write: true });
    writeFileSync(bundle, text(24)); // same length: V8's own check compares the source's length only
    const r = launch(bundle);
    expect(r.cache).to.equal('stale');
    expect(JSON.parse(r.stdout).answer, 'ran the code compiled from the old text').to.equal(24);
  });

  it('ignores a cache V8 refuses (other flags, cut short) and one that is not a cache at all, and still runs', () => {
    launch(bundle, { write: true });
    const good = readFileSync(`${bundle}.cache`);

    const otherFlags = launch(bundle, { flags: ['--no-opt'] });
    expect(otherFlags.cache).to.equal('rejected');
    expect(JSON.parse(otherFlags.stdout).answer).to.equal(42);

    writeFileSync(`${bundle}.cache`, good.subarray(0, 48));
    expect(launch(bundle).cache).to.equal('rejected');
    writeFileSync(`${bundle}.cache`, 'not a cache');
    const junk = launch(bundle);
    expect(junk.cache).to.equal('stale');
    expect(JSON.parse(junk.stdout).answer).to.equal(42);
    expect(junk.status).to.equal(0);
  });

  it("the build's warm-ups leave caches V8 takes: trustctl as users start it, the crash worker with its test's flags", () => {
    // argv as `node BUNDLE ARGS...` has it: the program's arguments start at argv[2].
    const trustctlBundle = resolve(process.cwd(), 'dist/bundle/trustctl.cjs');
    const trustctl = launch(trustctlBundle, { args: [trustctlBundle, '--version'] });
    expect(trustctl.stdout).to.match(/^\d+\.\d+\.\d+\n$/);
    expect(trustctl.cache).to.equal('used');
    // With stdin closed the worker gets no command and exits.
    const workerBundle = resolve(process.cwd(), 'dist/test-bundle/crash-node.cjs');
    const worker = launch(workerBundle, { flags: ['--no-opt'], args: [workerBundle, dir] });
    expect(worker.stdout).to.equal('ready\n');
    expect(worker.cache).to.equal('used');
  });
});
