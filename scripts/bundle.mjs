// Bundles what runs as its own process: trustctl (dist/bundle/trustctl.js, the package's bin) and the crash test's
// worker (dist/test-bundle/crash-node.js). tsc has already type-checked and compiled everything; this only makes
// start-up cheaper, in two steps:
// - One CommonJS file per program (`X.cjs`). A Node process spent ~0.2 s of CPU resolving and compiling ~180 separate
//   modules before it ran a line. The small pure-JS packages every command loads are bundled too (zod, yaml, luxon,
//   commander, rxjs); the rest load as installed: better-sqlite3 and pkcs11js are native, etcd3 reads its .proto files
//   at run time, and the others load only when a command needs them.
// - `X.js` is a launcher (src/cli/bundle-launcher.ts) that runs `X.cjs` with V8's code cache for it, written here by a
//   warm-up run of each program. ES modules cannot use a code cache on Node 20, which is why the bundles are CommonJS.
// The warm-ups are also a smoke test of each bundle: a bundle that cannot start fails the build.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Flags the crash test gives its workers (test/server/node-crash.test.ts): V8 refuses a code cache made under other
// flags, so the warm-up runs with the same ones.
const CRASH_WORKER_NODE_FLAGS = ['--no-opt'];

const program = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  external: ['better-sqlite3', 'pkcs11js', 'etcd3', 'cockatiel', 'prom-client', 'age-encryption'],
  // The one `import.meta.url` (src/runtime/etcd/watch-response-guard.ts) becomes the bundle's own URL.
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  sourcemap: true,
  logLevel: 'warning',
};

/**
 * `X.js` beside `X.cjs`: runs it with its code cache. The launcher is CommonJS too (the package.json written beside it
 * says so for its `.js`): as an ES module it made Node load its ES module loader first, ~20 ms of CPU in every process.
 */
async function launcher(outdir, name) {
  writeFileSync(join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
  await build({
    stdin: {
      contents: `import { join } from 'node:path';\nimport { runBundle } from './src/cli/bundle-launcher.ts';\nrunBundle(join(__dirname, '${name}.cjs'));\n`,
      resolveDir: process.cwd(),
      sourcefile: `${name}-launcher.ts`,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
    outfile: join(outdir, `${name}.js`),
    logLevel: 'warning',
  });
}

for (const outdir of ['dist/bundle', 'dist/test-bundle']) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
}
await Promise.all([
  build({ ...program, entryPoints: { trustctl: 'src/cli/main.ts' }, outdir: 'dist/bundle' }),
  build({ ...program, entryPoints: { 'crash-node': 'test/server/crash-node.ts' }, outdir: 'dist/test-bundle' }),
  launcher('dist/bundle', 'trustctl'),
  launcher('dist/test-bundle', 'crash-node'),
]);
chmodSync('dist/bundle/trustctl.js', 0o755);
for (const file of ['dist/bundle/trustctl.cjs', 'dist/test-bundle/crash-node.cjs']) {
  // esbuild leaves some non-ASCII text as it is (comments, a regular expression); as \u escapes, which mean the same
  // in strings, regular expressions and identifiers, the bundle is ASCII and the launcher reads it without decoding.
  const text = readFileSync(file, 'utf8').replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  writeFileSync(file, text);
  // The launcher compiles a bundle as a script, which has no loader for `import()`: esbuild turns the lazy imports of
  // our modules and of packages into require()s, but keeps `await import('node:...')` as it is, and that fails only
  // when the line runs. A builtin is already loaded: import it at the top of the file.
  const lines = text.split('\n');
  const at = lines.findIndex((line) => /(?<![\w$.])import\(/.test(line));
  if (at >= 0) throw new Error(`${file}:${at + 1}: a dynamic import() is left in the bundle (${lines[at].trim()}); import the module statically`);
}

// Warm-up: a config made and served once (`serve --once` starts the whole node and settles it), then the crash worker
// converging on that config, each writing its program's code cache as it exits.
const warm = mkdtempSync(join(tmpdir(), 'tp-bundle-warm-'));
try {
  const env = { ...process.env, TRUSTPLANE_WRITE_CODE_CACHE: '1', TRUSTPLANE_STATE_DIR: join(warm, 'state') };
  const run = (args, input) => execFileSync(process.execPath, args, { env, input, stdio: ['pipe', 'ignore', 'pipe'], cwd: warm });
  const trustctl = join(process.cwd(), 'dist/bundle/trustctl.js');
  run([trustctl, 'gen', 'config', 'warm-up', 'https://10.5.0.2:6443', '-o', warm]);
  run([trustctl, 'serve', '--once', '--config', join(warm, 'controlplane.yaml'), '--node-ip', '10.5.0.2', '--hostname', 'warm-up']);
  copyFileSync(join(warm, 'controlplane.yaml'), join(warm, 'initial.yaml'));
  run([...CRASH_WORKER_NODE_FLAGS, join(process.cwd(), 'dist/test-bundle/crash-node.js'), join(warm, 'crash-state')], 'converge\n');
} finally {
  rmSync(warm, { recursive: true, force: true });
}
