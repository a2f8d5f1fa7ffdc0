// One `serve` per state directory: two runtimes on one SQLite file would both issue (CAS keeps the data consistent,
// but work is done twice and renewals race). A pid file taken with O_EXCL; a stale one (its process is gone, as after
// a SIGKILL) is taken over.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'serve.pid';

export interface StateLock {
  release(): void;
}

export function lockStateDir(stateDir: string): StateLock {
  const path = join(stateDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return { release: () => releaseIfOurs(path) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new Error(`another trustctl serve (pid ${holder}) is running on ${stateDir}; stop it first (kill -TERM ${holder}) or use another --state`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not take ${path}: another process keeps creating it`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseIfOurs(path: string): void {
  try {
    if (Number(readFileSync(path, 'utf8').trim()) === process.pid) rmSync(path, { force: true });
  } catch {
    // Already gone: nothing to release.
  }
}
