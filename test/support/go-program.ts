// Builds a test's Go program (a directory with its go.mod, standard library only), offline. The binary is kept in
// node_modules/.cache/trustplane-go under a name made from the SHA-256 of the Go version and of the program's files, so
// a run after the first reuses it (a build costs ~0.6 s of CPU even with Go's own build cache warm) and any change to
// the source or to Go builds it again. GOPATH goes to a temp dir; Go's build cache (GOCACHE) is its own.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

const CACHE = resolve(process.cwd(), 'node_modules/.cache/trustplane-go');
const built = new Map<string, string>();

export function haveGo(): boolean {
  return spawnSync('go', ['version']).status === 0;
}

/** The path of the program built from `source` (a directory): built on the first call of a run unless cached. */
export function buildGoProgram(source: string): string {
  const known = built.get(source);
  if (known) return known;
  const binary = join(CACHE, `${basename(source)}-${sourceHash(source)}`);
  if (!existsSync(binary)) {
    const gopath = mkdtempSync(join(tmpdir(), `${basename(source)}-gopath-`));
    const partial = `${binary}.${process.pid}.tmp`;
    try {
      mkdirSync(CACHE, { recursive: true });
      const env = { ...process.env, GOPATH: gopath, GOPROXY: 'off', GOFLAGS: '-mod=mod', CGO_ENABLED: '0' };
      const r = spawnSync('go', ['build', '-o', partial, '.'], { cwd: source, env, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`go build of ${source} failed: ${r.stderr}`);
      // Whole or not at all: another test worker may be building the same program.
      renameSync(partial, binary);
    } finally {
      rmSync(partial, { force: true });
      rmSync(gopath, { recursive: true, force: true });
    }
  }
  built.set(source, binary);
  return binary;
}

function sourceHash(source: string): string {
  const hash = createHash('sha256').update(spawnSync('go', ['version'], { encoding: 'utf8' }).stdout);
  for (const name of readdirSync(source).sort()) hash.update(`\0${name}\0`).update(readFileSync(join(source, name)));
  return hash.digest('hex').slice(0, 16);
}
