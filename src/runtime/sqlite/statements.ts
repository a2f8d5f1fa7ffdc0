// Every statement the store runs, prepared once per connection.
import type Database from 'better-sqlite3';
import type { Pointer } from '../resource.js';
import type { EventRow, ListedRow, ResourceRow, StoredSpec } from '../store/rows.js';

export function prepareStatements(db: Database.Database) {
  return {
    getRow: db.prepare<[string, string, string], ResourceRow>(
      'SELECT version, owner, phase, meta, spec FROM resources WHERE namespace = ? AND type = ? AND id = ?',
    ),
    listFrom: db.prepare<[string, string, string], ListedRow>(
      'SELECT id, meta, spec FROM resources WHERE namespace = ? AND type = ? AND id >= ? ORDER BY id',
    ),
    insertRow: db.prepare<[string, string, string, number, string, string, string, StoredSpec], void>(
      'INSERT INTO resources (namespace, type, id, version, owner, phase, meta, spec) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    updateRow: db.prepare<[number, string, string, StoredSpec, string, string, string, number], void>(
      'UPDATE resources SET version = ?, phase = ?, meta = ?, spec = ? WHERE namespace = ? AND type = ? AND id = ? AND version = ?',
    ),
    // Of the types named in a JSON array: the rest of the file (certificate statuses, audit records) is never unsealed,
    // and a row that does not match is skipped without reading its spec from its overflow pages.
    rowsOfTypes: db.prepare<[string], Pointer & { spec: StoredSpec }>('SELECT namespace, type, id, spec FROM resources WHERE type IN (SELECT value FROM json_each(?))'),
    eventsOfTypes: db.prepare<[string], EventRow>('SELECT * FROM events WHERE type IN (SELECT value FROM json_each(?))'),
    deleteRow: db.prepare<[string, string, string], void>('DELETE FROM resources WHERE namespace = ? AND type = ? AND id = ?'),
    maxRevision: db.prepare<[], number | null>('SELECT max(revision) FROM events').pluck(),
    minRevision: db.prepare<[], number | null>('SELECT min(revision) FROM events').pluck(),
    insertEvent: db.prepare<
      [number, string, string, string, string, string, StoredSpec, string | null, StoredSpec | null],
      void
    >(
      'INSERT INTO events (revision, kind, namespace, type, id, meta, spec, old_meta, old_spec) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    pruneEvents: db.prepare<[number], void>('DELETE FROM events WHERE revision <= ?'),
    eventsAfter: db.prepare<[number], EventRow>('SELECT * FROM events WHERE revision > ? ORDER BY revision'),
    kindEventsAfter: db.prepare<[string, string, number], EventRow>(
      'SELECT * FROM events WHERE namespace = ? AND type = ? AND revision > ? ORDER BY revision',
    ),
    getMeta: db.prepare<[string], StoredSpec | undefined>('SELECT value FROM store_meta WHERE key = ?').pluck(),
    /** First writer wins: a second process opening a new store reads back the value the first one stored. */
    putMetaOnce: db.prepare<[string, StoredSpec], void>('INSERT OR IGNORE INTO store_meta (key, value) VALUES (?, ?)'),
    dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
