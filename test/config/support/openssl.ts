// The real openssl as an independent judge of the certificates and keys we produce.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface OpensslResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs openssl with `files` written to a temp dir; `{name}` in args becomes that file's path. */
export function openssl(args: string[], files: Record<string, string> = {}): OpensslResult {
  const dir = mkdtempSync(join(tmpdir(), 'trustplane-openssl-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const resolved = args.map((a) => a.replace(/\{([^}]+)\}/g, (_, name: string) => join(dir, name)));
    const r = spawnSync('openssl', resolved, { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl x509 -text` of a PEM certificate. */
export function certText(pem: string): string {
  const r = openssl(['x509', '-in', '{c.pem}', '-noout', '-text'], { 'c.pem': pem });
  if (r.status !== 0) throw new Error(`openssl x509 failed: ${r.stderr}`);
  return r.stdout;
}

/** Relabels Talos' non-standard `ED25519 PRIVATE KEY` so OpenSSL reads it. */
export function opensslKeyPem(pem: string): string {
  return pem.replace(/ED25519 PRIVATE KEY/g, 'PRIVATE KEY');
}
