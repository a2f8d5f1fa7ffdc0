// Bundles what runs as its own process: trustctl (dist/bundle/trustctl.js, the package's bin) and the test suite's
// worker processes (dist/test-bundle/). tsc has already type-checked and compiled everything; this only makes start-up
// cheaper. A Node process spent ~0.2 s of CPU resolving and compiling ~180 separate modules before it ran a line (a
// tenth of the suite's CPU went there, in serve and crash-worker processes). Packages stay external: better-sqlite3
// and pkcs11js are native, and the rest load as installed. Lazy `await import(...)`s stay lazy, as chunks.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  splitting: true,
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
  chunkNames: 'chunks/[name]-[hash]',
};

await build({ ...common, entryPoints: { trustctl: 'src/cli/main.ts' }, outdir: 'dist/bundle' });
await build({ ...common, entryPoints: { 'crash-node': 'test/server/crash-node.ts' }, outdir: 'dist/test-bundle' });
