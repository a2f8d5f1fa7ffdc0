// Runs test/consumers/x509-judge, a Go program: crypto/x509's Verify and VerifyHostname, as etcd, kube-apiserver,
// kubelet, client-go and talosctl use them.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { buildGoProgram } from '../support/go-program.js';

export { haveGo } from '../support/go-program.js';

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

/** The judge's path; the first call builds it (a second or two), later calls in the same run reuse it. */
export function buildJudge(): string {
  return buildGoProgram(SOURCE);
}

export function judge(checks: readonly JudgeCheck[]): JudgeVerdict[] {
  const r = spawnSync(buildJudge(), [], { input: JSON.stringify(checks), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`x509-judge failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as JudgeVerdict[];
}
