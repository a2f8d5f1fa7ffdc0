// The checks on the store file itself, before and while it is opened: an emptied store beside its key is not a new
// store, a file SQLite cannot read is named with the way back (a snapshot), and a reader never creates or upgrades one.
import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { UnavailableError } from '../errors.js';
import { keyFilePath } from '../encryption/state-key.js';
import { SCHEMA_VERSION, schemaVersion } from './schema.js';

const RESTORE = 'restore it from a snapshot you trust (trustctl etcd snapshot saves one)';

/**
 * A zero-byte store beside a key file lost its data (a truncation, a botched restore): opening it would start a new,
 * empty store under the old key, and the node would issue a new PKI. Refused instead.
 */
export function refuseEmptiedStore(path: string): void {
  if (path === ':memory:' || !existsSync(path) || statSync(path).size > 0) return;
  const key = keyFilePath(path);
  if (existsSync(key)) {
    throw new UnavailableError(`"${path}" is empty but "${key}" exists: restore the store or remove both`);
  }
}

/** SQLite's "not a database" and "malformed" errors, restated with the file and the way out. */
export function corruptStoreError(path: string, err: unknown): unknown {
  if (err instanceof Database.SqliteError && /^SQLITE_(CORRUPT|NOTADB)/.test(err.code)) {
    return new UnavailableError(`"${path}" is corrupt (${err.message}): ${RESTORE}, with its key file beside it`);
  }
  return err;
}

/** A read-only open must find a store at the version this trustplane writes: it never creates or migrates one. */
export function requireCurrentSchema(db: Database.Database, path: string): void {
  const version = schemaVersion(db);
  if (version === SCHEMA_VERSION) return;
  if (version === 0) throw new UnavailableError(`"${path}" holds no trustplane store: create it with trustctl serve, or ${RESTORE}`);
  if (version > SCHEMA_VERSION) {
    throw new UnavailableError(`"${path}" has schema version ${version}, newer than this trustplane understands (${SCHEMA_VERSION}): upgrade trustplane`);
  }
  throw new UnavailableError(`"${path}" has schema version ${version}, older than this trustplane's (${SCHEMA_VERSION}): run trustctl serve on it once to upgrade it; readers never change a store`);
}
