// One `serve` per state directory: two runtimes on one SQLite file would both issue (CAS keeps the data consistent,
// but work is done twice and renewals race). The lock is an OS-level one on serve.lock (see exclusive-lock.ts), so a
// killed serve leaves nothing stale behind and two starters can never both take it; serve.pid beside it only names the
// holder in the refusal.
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tryExclusiveLock } from '../runtime/sqlite/exclusive-lock.js';

export const LOCK_FILE = 'serve.lock';
export const PID_FILE = 'serve.pid';

export interface StateLock {
  release(): void;
}

export function lockStateDir(stateDir: string): StateLock {
  const lockPath = join(stateDir, LOCK_FILE);
  const pidPath = join(stateDir, PID_FILE);
  const lock = tryExclusiveLock(lockPath);
  if (!lock) {
    const holder = holderOf(pidPath);
    const who = holder ? `(pid ${holder}) ` : '';
    const stop = holder ? `kill -TERM ${holder}` : `fuser ${lockPath}`;
    throw new Error(`another trustctl serve ${who}is running on ${stateDir}; stop it first (${stop}) or use another --state`);
  }
  chmodSync(lockPath, 0o600);
  writeFileSync(pidPath, `${process.pid}\n`, { mode: 0o600 });
  let held = true;
  return {
    release: () => {
      if (!held) return;
      held = false;
      // The pid file goes first: once the lock is released another serve may write its own.
      if (holderOf(pidPath) === process.pid) rmSync(pidPath, { force: true });
      lock.release();
    },
  };
}

function holderOf(pidPath: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidPath, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
