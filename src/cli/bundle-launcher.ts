// Runs a CommonJS bundle (scripts/bundle.mjs) with V8's code cache for it. Node 20 has no compile cache for modules
// (`module.enableCompileCache` is 22+), so every process parsed and compiled the bundle's ~1.7 MB again: ~45 ms of CPU
// in each `trustctl serve` and crash-test worker, the most frequent processes of the suite. A `vm.Script` given the
// bytes V8 produced on an earlier run skips that, and starts with the functions that run then already compiled.
//
// The cache sits beside the bundle (`<bundle>.cache`) and is written only when TRUSTPLANE_WRITE_CODE_CACHE=1, which
// the build sets for one warm-up run. Never elsewhere (a shared temp dir): a code cache is code, and whoever can write
// the one beside the bundle can already rewrite the bundle. It begins with the SHA-256 of the bundle's text, so a cache
// from another build is never used, whatever V8 would make of it; V8 itself refuses one from another Node or other
// flags. Any cache not used only costs the compile it would have saved.
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Module, createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

export const WRITE_CODE_CACHE_ENV = 'TRUSTPLANE_WRITE_CODE_CACHE';
const DIGEST_BYTES = 32;

/** What a launch found: whether V8 took the cache (for tests and the build's check of its warm-up). */
export interface LaunchedBundle {
  cache: 'used' | 'absent' | 'stale' | 'rejected';
}

/** Runs `bundleFile` (a CommonJS bundle) in this process as `node bundleFile` would, with its code cache if usable. */
export function runBundle(bundleFile: string, env: NodeJS.ProcessEnv = process.env): LaunchedBundle {
  const bytes = readFileSync(bundleFile);
  const digest = createHash('sha256').update(bytes).digest();
  // The build escapes every non-ASCII character (scripts/bundle.mjs), and ASCII read as latin1 needs no UTF-8 decoding:
  // 11 ms instead of 23 for trustctl's bundle here.
  const text = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const cacheFile = `${bundleFile}.cache`;
  const cachedData = readCache(cacheFile, digest);
  // A `#!` line is valid only at the very start of a script; kept as a comment, every line and column stays put.
  const body = text.startsWith('#!') ? `//${text.slice(2)}` : text;
  const script = new Script(Module.wrap(body), { filename: bundleFile, ...(typeof cachedData === 'string' ? {} : { cachedData }) });
  const cache = typeof cachedData === 'string' ? cachedData : script.cachedDataRejected ? 'rejected' : 'used';
  if (env[WRITE_CODE_CACHE_ENV] === '1') process.once('exit', () => writeCache(cacheFile, digest, script.createCachedData()));

  const module = new Module(bundleFile);
  module.filename = bundleFile;
  const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
  run.call(module.exports, module.exports, createRequire(bundleFile), module, bundleFile, dirname(bundleFile));
  return { cache };
}

/** The cache's V8 bytes when it was made from this very text; else why there are none. */
function readCache(cacheFile: string, digest: Buffer): Buffer | 'absent' | 'stale' {
  let bytes: Buffer;
  try {
    bytes = readFileSync(cacheFile);
  } catch {
    return 'absent';
  }
  if (bytes.length <= DIGEST_BYTES || !bytes.subarray(0, DIGEST_BYTES).equals(digest)) return 'stale';
  return bytes.subarray(DIGEST_BYTES);
}

/** At exit, so the cache holds every function this run compiled; written whole or not at all. */
function writeCache(cacheFile: string, digest: Buffer, data: Buffer): void {
  const partial = `${cacheFile}.${process.pid}.tmp`;
  writeFileSync(partial, Buffer.concat([digest, data]), { mode: 0o644 });
  renameSync(partial, cacheFile);
}
