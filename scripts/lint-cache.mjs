// Which files the lint must read again. A file linted clean stays clean while nothing its result depends on changes:
// its own text, the text of every project file it imports (transitively: type-aware rules such as
// no-floating-promises read the types of what it calls), and what every file's result depends on (the lint and
// compiler configs, the installed packages, Node). ESLint's own --cache keys a file on its own text only, which is not
// enough for type-aware rules: a function made async elsewhere must fail its unchanged callers.
// The cache holds only files that linted clean, under node_modules/.cache (gone with `npm ci`, so CI lints everything).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export const LINT_CACHE_FILE = 'node_modules/.cache/trustplane-lint/clean.json';
const CACHE_FORMAT = 1;
const LINTED_EXTENSIONS = /\.(ts|mts|cts|js|mjs|cjs)$/;
// Never linted, and large: not walked at all.
const SKIPPED_DIRS = new Set(['node_modules', '.git', 'dist']);
// What every file's result depends on besides the sources.
const CONFIG_FILES = ['eslint.config.js', 'tsconfig.json', 'package-lock.json', 'scripts/compile-and-lint.mjs', 'scripts/lint-cache.mjs'];
const TOOL_PACKAGES = ['eslint', 'typescript', 'typescript-eslint', '@eslint/js'];

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** A file's text, or `missing` when it cannot be read. */
function readOr(path, missing) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return missing;
  }
}

/** Every file under `root` that `eslint.lintFiles(['.'])` lints: not ignored, and matched by some config block. */
async function lintTargets(eslint, root) {
  const out = [];
  const walk = async (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) await walk(path);
      } else if (entry.isFile() && LINTED_EXTENSIONS.test(entry.name) && !(await eslint.isPathIgnored(path))) {
        if ((await eslint.calculateConfigForFile(path)) !== undefined) out.push(path);
      }
    }
  };
  await walk(root);
  return out.sort();
}

/** The project files (outside node_modules) each TypeScript file imports, resolved as the compiler resolves them. */
function importGraph(files, options, root, textOf) {
  const cache = ts.createModuleResolutionCache(root, (f) => f, options);
  const graph = new Map();
  for (const file of files) {
    if (!/\.[mc]?ts$/.test(file)) continue;
    const { importedFiles, referencedFiles } = ts.preProcessFile(textOf(file), true, true);
    const deps = new Set();
    for (const { fileName } of importedFiles) {
      const resolved = ts.resolveModuleName(fileName, file, options, ts.sys, cache).resolvedModule?.resolvedFileName;
      if (resolved && !resolved.includes('/node_modules/')) deps.add(resolve(resolved));
    }
    for (const { fileName } of referencedFiles) deps.add(resolve(dirname(file), fileName));
    graph.set(file, deps);
  }
  return graph;
}

function transitive(graph, file) {
  const seen = new Set();
  const stack = [...(graph.get(file) ?? [])];
  while (stack.length) {
    const next = stack.pop();
    if (seen.has(next) || next === file) continue;
    seen.add(next);
    stack.push(...(graph.get(next) ?? []));
  }
  return [...seen].sort();
}

/** The key of everything a result depends on beyond the sources. */
function globalKey(root) {
  // The tools this script runs with (eslint.config.js loads its plugins from the same node_modules).
  const require = createRequire(import.meta.url);
  const parts = [`format ${CACHE_FORMAT}`, `node ${process.version}`];
  // a config that is not there is part of the key too
  for (const file of CONFIG_FILES) parts.push(`${file} ${sha256(readOr(join(root, file), ''))}`);
  for (const name of TOOL_PACKAGES) parts.push(`${name} ${JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version}`);
  return sha256(parts.join('\n'));
}

/**
 * The key of each target: its path, its text and the text of every project file it imports transitively, under the
 * global key. Equal keys mean an equal lint result.
 */
function lintKeys(targets, options, root) {
  const global = globalKey(root);
  // Each file is read once: for its imports and for its hash.
  const texts = new Map();
  const textOf = (file) => {
    if (!texts.has(file)) texts.set(file, readOr(file, '\u0000missing'));
    return texts.get(file);
  };
  const hashes = new Map();
  const hashOf = (file) => {
    if (!hashes.has(file)) hashes.set(file, sha256(textOf(file)));
    return hashes.get(file);
  };
  const graph = importGraph(targets, options, root, textOf);
  const keys = new Map();
  for (const file of targets) {
    const deps = transitive(graph, file).map((d) => `${relative(root, d)} ${hashOf(d)}`);
    keys.set(file, sha256([global, relative(root, file), hashOf(file), ...deps].join('\n')));
  }
  return keys;
}

/**
 * Lints the targets under `root` whose key is not the one they last linted clean with, and records the clean ones.
 * `options` are the compiler options imports resolve with. Returns eslint's results for the files linted.
 */
export async function lintChanged({ eslint, options, root }) {
  const targets = await lintTargets(eslint, root);
  const keys = lintKeys(targets, options, root);
  const known = readCleanKeys(root);
  const stale = targets.filter((file) => known.get(relative(root, file)) !== keys.get(file));
  const results = stale.length ? await eslint.lintFiles(stale) : [];
  const cleanNow = new Set(results.filter((r) => r.errorCount + r.warningCount === 0).map((r) => r.filePath));
  const staleSet = new Set(stale);
  writeCleanKeys(root, keys, new Set(targets.filter((file) => cleanNow.has(file) || !staleSet.has(file))));
  return { results, linted: stale.map((file) => relative(root, file)), total: targets.length };
}

/** The keys the last run found clean; an unreadable or other-format cache is empty. */
function readCleanKeys(root) {
  try {
    const cache = JSON.parse(readFileSync(join(root, LINT_CACHE_FILE), 'utf8'));
    if (cache.format !== CACHE_FORMAT || typeof cache.clean !== 'object' || cache.clean === null) return new Map();
    return new Map(Object.entries(cache.clean).filter(([, key]) => typeof key === 'string'));
  } catch {
    return new Map();
  }
}

/** Records the targets found clean now (the ones skipped were clean already); written whole, then renamed into place. */
function writeCleanKeys(root, keys, clean) {
  const path = join(root, LINT_CACHE_FILE);
  mkdirSync(dirname(path), { recursive: true });
  const entries = Object.fromEntries([...keys].filter(([file]) => clean.has(file)).map(([file, key]) => [relative(root, file), key]));
  writeFileSync(`${path}.tmp`, `${JSON.stringify({ format: CACHE_FORMAT, clean: entries })}\n`);
  renameSync(`${path}.tmp`, path);
}
