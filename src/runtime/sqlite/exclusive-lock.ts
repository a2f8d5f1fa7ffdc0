// An OS-level lock on a file, held for as long as this process keeps it: SQLite's own lock (a POSIX record lock on the
// file) taken by an exclusive transaction that is never committed. The kernel drops it when the process ends in any
// way (SIGKILL included), so there is no stale lock to detect or take over, and two processes racing for it cannot
// both win: one gets the lock, the other SQLITE_BUSY at once.
import Database from 'better-sqlite3';
import { UnavailableError } from '../errors.js';

export interface ExclusiveLock {
  release(): void;
}

/** Takes the lock on `path` (created empty, 0600, when absent); undefined when another process (or connection) holds it. */
export function tryExclusiveLock(path: string): ExclusiveLock | undefined {
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (err) {
    throw new UnavailableError(`cannot open lock file "${path}": ${(err as Error).message}`);
  }
  try {
    db.pragma('busy_timeout = 0');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if (err instanceof Database.SqliteError && (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED')) return undefined;
    throw new UnavailableError(`cannot lock "${path}" (${(err as Error).message}): remove it; it holds nothing but the lock`);
  }
  return { release: () => db.close() };
}
