// The store's schema and its migrations. Each migration runs in its own transaction and records its version, so a
// file written by an older trustplane is upgraded in place and a file from a newer one is refused, not misread.
import type Database from 'better-sqlite3';
import { UnavailableError } from '../errors.js';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'resources and the event log',
    sql: `
      CREATE TABLE resources (
        namespace TEXT NOT NULL,
        type      TEXT NOT NULL,
        id        TEXT NOT NULL,
        version   INTEGER NOT NULL,
        owner     TEXT NOT NULL,
        phase     TEXT NOT NULL,
        meta      TEXT NOT NULL,   -- the full Metadata as JSON
        spec      BLOB NOT NULL,   -- no affinity: JSON text, or a sealed BLOB for sensitive types
        PRIMARY KEY (namespace, type, id)
      ) WITHOUT ROWID;
      -- No index by kind: every index is one more page written per commit, and a resumed watch reads at most the
      -- retained history.
      CREATE TABLE events (
        revision  INTEGER PRIMARY KEY,
        kind      TEXT NOT NULL,   -- created | updated | destroyed
        namespace TEXT NOT NULL,
        type      TEXT NOT NULL,
        id        TEXT NOT NULL,
        meta      TEXT NOT NULL,
        spec      BLOB NOT NULL,
        old_meta  TEXT,
        old_spec  BLOB
      );
    `,
  },
  {
    version: 2,
    description: 'store metadata (the encryption key check)',
    sql: `CREATE TABLE store_meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export function schemaVersion(db: Database.Database): number {
  const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).get();
  if (!table) return 0;
  const row = db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}

/** Brings the file up to `target` (default: the latest); returns the versions applied. */
export function migrate(db: Database.Database, path: string, target = SCHEMA_VERSION): number[] {
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION) {
    throw new UnavailableError(
      `"${path}" has schema version ${current}, newer than this trustplane understands (${SCHEMA_VERSION}): upgrade trustplane`,
    );
  }
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > target) continue;
    const ran = db.transaction(() => {
      // Another process opening the same new file may have applied it while we waited for the write lock.
      if (schemaVersion(db) >= m.version) return false;
      db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)');
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version (version, applied) VALUES (?, ?)').run(m.version, new Date().toISOString());
      return true;
    }).immediate();
    if (ran) applied.push(m.version);
  }
  return applied;
}
