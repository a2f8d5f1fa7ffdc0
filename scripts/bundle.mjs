// Bundles what runs as its own process: trustctl (dist/bundle/trustctl.js, the package's bin) and the test suite's
// worker processes (dist/test-bundle/). tsc has already type-checked and compiled everything; this only makes start-up
// cheaper. A Node process spent ~0.2 s of CPU resolving and compiling ~180 separate modules before it ran a line (a
// tenth of the suite's CPU went there, in serve and crash-worker processes). The small pure-JS packages every command
// loads are bundled too (zod, yaml, luxon, commander, rxjs); the rest load as installed: better-sqlite3 and pkcs11js are
// native, etcd3 reads its .proto files at run time, and the others load only when a command needs them. Lazy
// `await import(...)`s stay lazy, as chunks.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  splitting: true,
  external: ['better-sqlite3', 'pkcs11js', 'etcd3', 'cockatiel', 'prom-client', 'age-encryption'],
  // A bundled CommonJS package (yaml, commander) may require() a Node builtin: give the ES module a require.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  sourcemap: true,
  logLevel: 'warning',
  chunkNames: 'chunks/[name]-[hash]',
};

// Chunk names carry a content hash: without this, every change would leave the previous chunks behind.
for (const outdir of ['dist/bundle', 'dist/test-bundle']) rmSync(outdir, { recursive: true, force: true });
await build({ ...common, entryPoints: { trustctl: 'src/cli/main.ts' }, outdir: 'dist/bundle' });
await build({ ...common, entryPoints: { 'crash-node': 'test/server/crash-node.ts' }, outdir: 'dist/test-bundle' });
