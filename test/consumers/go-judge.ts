// Builds test/consumers/x509-judge (a Go program: crypto/x509's Verify and VerifyHostname, as etcd, kube-apiserver,
// kubelet, client-go and talosctl use them) once per test run, offline. The binary and GOPATH go to a temp dir; the
// build cache is Go's own (GOCACHE, ~/.cache/go-build by default): content-addressed, so a cached package is the one the
// source would compile to, and a run after the first skips recompiling crypto/x509 and its imports (~4 s of CPU).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface JudgeCheck {
  name: string;
  leaf: string;
  roots: string;
  usage: 'server' | 'client';
  names?: string[];
  at: string;
}

export interface JudgeVerdict {
  name: string;
  ok: boolean;
  error?: string;
}

const SOURCE = resolve(process.cwd(), 'test/consumers/x509-judge');
let built: { binary: string; dir: string } | undefined;

export function haveGo(): boolean {
  return spawnSync('go', ['version']).status === 0;
}

/** The judge's path; the first call builds it (a second or two), later calls in the same run reuse it. */
export function buildJudge(): string {
  if (built) return built.binary;
  const dir = mkdtempSync(join(tmpdir(), 'x509-judge-'));
  const env = { ...process.env, GOPATH: join(dir, 'gopath'), GOPROXY: 'off', GOFLAGS: '-mod=mod', CGO_ENABLED: '0' };
  const binary = join(dir, 'x509-judge');
  const r = spawnSync('go', ['build', '-o', binary, '.'], { cwd: SOURCE, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`go build of ${SOURCE} failed: ${r.stderr}`);
  built = { binary, dir };
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return binary;
}

export function judge(checks: readonly JudgeCheck[]): JudgeVerdict[] {
  const r = spawnSync(buildJudge(), [], { input: JSON.stringify(checks), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`x509-judge failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as JudgeVerdict[];
}
