// Builds a test's Go program (a directory with its go.mod, standard library only) once per test run, offline. The
// binary and GOPATH go to a temp dir removed at exit; the build cache is Go's own (GOCACHE, ~/.cache/go-build by
// default): content-addressed, so a cached package is the one the source would compile to, and a run after the first
// skips recompiling the packages it imports (crypto/x509 and its imports: ~4 s of CPU).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const built = new Map<string, string>();

export function haveGo(): boolean {
  return spawnSync('go', ['version']).status === 0;
}

/** The path of the program built from `source` (a directory); the first call builds it, later ones reuse it. */
export function buildGoProgram(source: string): string {
  const known = built.get(source);
  if (known) return known;
  const dir = mkdtempSync(join(tmpdir(), `${basename(source)}-`));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const env = { ...process.env, GOPATH: join(dir, 'gopath'), GOPROXY: 'off', GOFLAGS: '-mod=mod', CGO_ENABLED: '0' };
  const binary = join(dir, basename(source));
  const r = spawnSync('go', ['build', '-o', binary, '.'], { cwd: source, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`go build of ${source} failed: ${r.stderr}`);
  built.set(source, binary);
  return binary;
}
