// A SoftHSM2 token per test: its own token directory and SOFTHSM2_CONF, initialised with softhsm2-util, judged with
// OpenSC's pkcs11-tool. Tests skip (saying why) where softhsm2 is not installed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOFTHSM_MODULE = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so'].find((p) => existsSync(p));

/** Why SoftHSM2 tests cannot run here, or undefined when they can. */
export function softhsmMissing(): string | undefined {
  if (!SOFTHSM_MODULE) return 'softhsm2 is not installed (no libsofthsm2.so): apt-get install softhsm2';
  try {
    execFileSync('softhsm2-util', ['--version'], { stdio: 'pipe' });
  } catch {
    return 'softhsm2-util is not on PATH: apt-get install softhsm2';
  }
  return undefined;
}

export function pkcs11ToolMissing(): string | undefined {
  try {
    execFileSync('pkcs11-tool', ['--help'], { stdio: 'pipe' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'pkcs11-tool is not on PATH: apt-get install opensc';
  }
  return undefined;
}

export interface SoftToken {
  dir: string;
  module: string;
  label: string;
  pin: string;
  pinFile: string;
  conf: string;
  /** Restores SOFTHSM2_CONF and removes the token directory. */
  remove(): void;
}

/** A fresh token labelled `label` (PIN 1234, SO PIN 5678) in a temp dir, made current through SOFTHSM2_CONF. */
export function createSoftToken(label = 'trustplane'): SoftToken {
  const dir = mkdtempSync(join(tmpdir(), 'trustplane-softhsm-'));
  mkdirSync(join(dir, 'tokens'));
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const previous = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = conf;
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', '1234', '--so-pin', '5678'], { stdio: 'pipe' });
  const pinFile = join(dir, 'pin');
  writeFileSync(pinFile, '1234\n', { mode: 0o600 });
  return {
    dir,
    module: SOFTHSM_MODULE!,
    label,
    pin: '1234',
    pinFile,
    conf,
    remove() {
      if (previous === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = previous;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `pkcs11-tool --list-objects --login`: the judge of what the token holds. */
export function listTokenObjects(token: SoftToken): string {
  return execFileSync('pkcs11-tool', ['--module', token.module, '--token-label', token.label, '--list-objects', '--login', '--pin', token.pin], {
    env: { ...process.env, SOFTHSM2_CONF: token.conf },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The Access flags pkcs11-tool prints for the private key labelled `label`. */
export function privateKeyAccess(listing: string, label: string): string[] {
  const object = listing.split(/\n(?=\S)/).find((o) => o.startsWith('Private Key Object') && o.includes(`label:      ${label}\n`));
  if (!object) throw new Error(`pkcs11-tool lists no private key labelled "${label}":\n${listing}`);
  return (/Access:\s+(.*)/.exec(object)?.[1] ?? '').split(', ');
}
