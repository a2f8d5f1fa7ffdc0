// The embedded State backend: one SQLite file in WAL mode. Every write is one immediate transaction that checks,
// writes the row with a compare-and-swap on version and appends to an event log keyed by a store-wide revision;
// watches replay that log from a bookmark and then follow live commits (this process's at once, other processes'
// by polling), so a watcher can resume after a restart until the bookmark falls out of the retained history.
import Database from 'better-sqlite3';
import { chmodSync, existsSync } from 'node:fs';
// The deep import loads only Observable; 'rxjs' loads every operator, ~0.4 s at every CLI start on a small machine.
import { Observable } from 'rxjs/internal/Observable';
import type { Clock } from '../clock.js';
import { EncryptionError, UnavailableError, ValidationError } from '../errors.js';
import type { Pointer, Resource, ResourceRegistry } from '../resource.js';
import { SecretBox } from '../encryption/secret-box.js';
import { loadStateKey } from '../encryption/state-key.js';
import type { KeyEnvironment, StateKeySource } from '../encryption/state-key.js';
import type { Bookmark, ListOptions, WatchEvent } from '../state.js';
import { KEY_CHECK, keyCheckOpens, sealKeyCheck } from '../store/key-check.js';
import { listedResources } from '../store/listed-rows.js';
import type { EventRow, ListedRow } from '../store/rows.js';
import { SpecCodec, sensitiveTypes } from '../store/spec-codec.js';
import type { SensitiveTypes } from '../store/spec-codec.js';
import { StateCore } from '../store/state-core.js';
import type { WatchPlan } from '../store/state-core.js';
import { bootstrapEvents, checkBookmark, replayEvents } from '../store/watch-start.js';
import type { WatchTarget } from '../store/watch-projection.js';
import { WriteRules } from '../store/write-rules.js';
import type { WriteContext } from '../store/write-rules.js';
import { migrate, schemaVersion } from './schema.js';
import { sqliteRows } from './sqlite-rows.js';
import { corruptStoreError, refuseEmptiedStore, requireCurrentSchema } from './store-file.js';
import { prepareStatements } from './statements.js';
import type { Statements } from './statements.js';
import { WatchHub } from './watch-hub.js';
import type { Watcher } from './watch-hub.js';

export interface SqliteStateOptions {
  /** The database file (created when absent), or ':memory:'. */
  path: string;
  registry: ResourceRegistry;
  /** Stamps created/updated; the system time when absent. */
  clock?: Clock;
  /**
   * The key that seals sensitive specs: a 32-byte Buffer, 'env' (TRUSTPLANE_STATE_KEY, base64), 'file'
   * (`<path>.key`, mode 0600, created on first open), 'auto' (env when set, else file; the default) or 'none'.
   */
  encryptionKey?: StateKeySource;
  /** Where 'env' and 'auto' read TRUSTPLANE_STATE_KEY (default: process.env). */
  keyEnv?: KeyEnvironment;
  /**
   * How many revisions of event history to keep for resuming watches (default 10,000). Pruning runs every
   * historyLimit/16 revisions (at most 256), so up to that many more may be kept.
   */
  historyLimit?: number;
  /** How often to look for commits by other processes while someone watches (default 50 ms). */
  pollIntervalMs?: number;
  /** How long a write waits for another process's write lock before failing (default 5 s). */
  busyTimeoutMs?: number;
  /** Open an existing store for reading only: nothing is created, migrated or written (not even a key file). */
  readOnly?: boolean;
}

export const DEFAULT_HISTORY_LIMIT = 10_000;

export async function openSqliteState(options: SqliteStateOptions): Promise<SqliteState> {
  return SqliteState.open(options);
}

export class SqliteState extends StateCore {
  readonly encryptedAtRest: boolean;
  readonly path: string;
  /** Where the encryption key came from (never the key), e.g. `key file "/var/lib/trustplane/state.db.key"`. */
  readonly keyOrigin: string;

  protected readonly rules: WriteRules;
  private readonly s: Statements;
  private readonly codec: SpecCodec;
  private readonly sensitive: SensitiveTypes;
  /** What verifySealing reads: a type the registry does not know is not sealed (nothing reads it). */
  private readonly sensitiveTypeNames: string[];
  private readonly hub: WatchHub;
  private readonly now: () => string;
  private readonly historyLimit: number;
  private readonly pruneEvery: number;
  private readonly inTransaction: Database.Transaction<<T>(fn: () => T) => T>;
  private closed = false;

  static open(options: SqliteStateOptions): SqliteState {
    const historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isInteger(historyLimit) || historyLimit < 1) {
      throw new ValidationError('historyLimit', `expected an integer >= 1, got ${historyLimit}`);
    }
    const { path } = options;
    refuseEmptiedStore(path);
    if (options.readOnly) return SqliteState.openReadOnly(options, historyLimit);
    const isNew = path !== ':memory:' && !existsSync(path);
    let db: Database.Database;
    try {
      db = new Database(path);
    } catch (err) {
      throw corruptStoreError(path, err);
    }
    try {
      // Metadata of every resource lives here (and every spec, with encryptionKey 'none'): owner-only, like the key.
      // SQLite gives the -wal and -shm files the database file's mode.
      if (isNew) chmodSync(options.path, 0o600);
      // WAL lets readers (the CLI, watchers in other processes) run beside the writer. synchronous=NORMAL syncs the
      // WAL at checkpoints rather than at every commit: a killed process loses nothing it committed, and a power
      // cut can at worst roll back the last few commits, never corrupt the file; controllers are level-triggered
      // and redo such work, which is worth the order-of-magnitude faster commits.
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      db.pragma('foreign_keys = OFF');
      migrate(db, options.path);
      return new SqliteState(db, options, historyLimit);
    } catch (err) {
      db.close();
      throw corruptStoreError(path, err);
    }
  }

  /** For readers (`trustctl get`): the file must exist at the current schema; nothing is created, migrated or sealed. */
  private static openReadOnly(options: SqliteStateOptions, historyLimit: number): SqliteState {
    const { path } = options;
    if (path === ':memory:' || !existsSync(path)) throw new UnavailableError(`"${path}" does not exist: a read-only open never creates a store`);
    let db: Database.Database;
    try {
      // Not SQLite's read-only mode: after a writer was killed its WAL needs recovering before anyone can read, which
      // a read-only connection cannot do. query_only refuses every write statement instead.
      db = new Database(path, { fileMustExist: true });
    } catch (err) {
      throw corruptStoreError(path, err);
    }
    try {
      db.pragma('query_only = ON');
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      requireCurrentSchema(db, path);
      return new SqliteState(db, options, historyLimit);
    } catch (err) {
      db.close();
      throw corruptStoreError(path, err);
    }
  }

  private constructor(
    private readonly db: Database.Database,
    options: SqliteStateOptions,
    historyLimit: number,
  ) {
    super();
    this.path = options.path;
    this.historyLimit = historyLimit;
    this.pruneEvery = Math.max(1, Math.min(256, Math.floor(historyLimit / 16)));
    this.s = prepareStatements(db);
    this.sensitive = sensitiveTypes(options.registry);
    this.sensitiveTypeNames = options.registry.all().filter((d) => d.sensitive).map((d) => d.type);
    const box = this.unlock(options.encryptionKey ?? 'auto', options.readOnly === true, options.keyEnv);
    this.encryptedAtRest = box.box !== undefined;
    this.keyOrigin = box.origin;
    this.codec = new SpecCodec(box.box, box.origin, options.path, this.sensitive);
    this.rules = new WriteRules(sqliteRows(this.s), options.registry, this.codec);
    // Without a clock, Date gives the same ISO-8601 UTC text as the system clock, without loading luxon (CLI start-up).
    const clock = options.clock;
    this.now = clock ? () => new Date(clock.now().toMillis()).toISOString() : () => new Date().toISOString();
    this.inTransaction = db.transaction(<T>(fn: () => T): T => fn());
    this.hub = new WatchHub(this.currentRevision(), {
      decode: (row) => this.codec.event(row),
      readAfter: (revision) => this.s.eventsAfter.all(revision),
      dataVersion: () => this.s.dataVersion.get() ?? 0,
      pollIntervalMs: options.pollIntervalMs ?? 50,
    });
  }

  /** The schema version of the open file. */
  get schemaVersion(): number {
    return schemaVersion(this.db);
  }

  protected async read<Spec>(p: Pointer): Promise<Resource<Spec> | undefined> {
    const row = this.rules.row(p);
    return row ? this.codec.resource<Spec>(row.meta, row.spec, p) : undefined;
  }

  protected async readKind<Spec>(kind: Pointer, options: ListOptions): Promise<Resource<Spec>[]> {
    return this.txn('deferred', () => this.listNow<Spec>(kind, options));
  }

  protected async transact<T>(_pointers: Pointer[], fn: (ctx: WriteContext, rules: WriteRules) => T): Promise<T> {
    return this.write((ctx) => fn(ctx, this.rules));
  }

  async revision(): Promise<Bookmark> {
    this.assertOpen();
    return this.currentRevision();
  }

  async verifySealing(): Promise<void> {
    this.assertOpen();
    this.txn('deferred', () => {
      const sensitive = JSON.stringify(this.sensitiveTypeNames);
      for (const row of this.s.rowsOfTypes.iterate(sensitive)) this.codec.verify(row, row.spec);
      for (const row of this.s.eventsOfTypes.iterate(sensitive)) this.codec.verifyEvent(row);
    });
  }

  /** Runs `PRAGMA integrity_check`; 'ok' when the file is sound. */
  integrityCheck(): string {
    this.assertOpen();
    return (this.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('\n');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.hub.completeAll();
    this.closed = true;
    this.db.close();
  }

  private write<T>(fn: (ctx: WriteContext) => T): T {
    this.assertOpen();
    const ctx: WriteContext = { revision: 0, now: this.now(), events: [] };
    let foreign: EventRow[] = [];
    let result: T;
    try {
      result = this.txn('immediate', () => {
        ctx.revision = this.currentRevision();
        if (ctx.revision > this.hub.seen) {
          // Another process wrote since we last looked: its events go to watchers before ours, in order.
          if (this.hub.watching) foreign = this.s.eventsAfter.all(this.hub.seen);
          else this.hub.seen = ctx.revision;
        }
        const first = ctx.revision;
        const out = fn(ctx);
        // Prune in steps: deleting one old event per commit would dirty one more page on every write.
        if (Math.floor(ctx.revision / this.pruneEvery) > Math.floor(first / this.pruneEvery)) {
          this.s.pruneEvents.run(ctx.revision - this.historyLimit);
        }
        return out;
      });
    } catch (err) {
      throw this.translate(err);
    }
    if (foreign.length > 0) this.hub.publishForeign(foreign);
    this.hub.publish(ctx.events);
    return result;
  }

  protected observe<Spec>(plan: () => WatchPlan): Observable<WatchEvent<Spec>> {
    // The store does not know Spec (no backend checks a spec's type on read): the caller's parameter names it.
    const events = new Observable<WatchEvent>((subscriber) => {
      let watcher: Watcher | undefined;
      try {
        this.assertOpen();
        const { target, since, initial } = plan();
        const { cursor, events } = this.txn('deferred', () => this.snapshot(target, since, initial));
        watcher = { target, cursor, subscriber };
        this.hub.add(watcher);
        for (const event of events) {
          if (subscriber.closed) break;
          subscriber.next(event);
        }
      } catch (err) {
        subscriber.error(this.translate(err));
      }
      return () => {
        if (watcher && !this.closed) this.hub.remove(watcher);
      };
    });
    return events as Observable<WatchEvent<Spec>>;
  }

  /** What a new watcher sees before live events, read in one snapshot; `cursor` is the revision it covers. */
  private snapshot(target: WatchTarget, since: Bookmark | undefined, initial: WatchPlan['initial']): { cursor: number; events: WatchEvent[] } {
    const revision = this.currentRevision();
    if (since !== undefined) {
      checkBookmark(since, this.s.minRevision.get() ?? revision + 1, revision);
      return { cursor: revision, events: replayEvents(target, this.s.kindEventsAfter.all(target.namespace, target.type, since), this.codec, this.sensitive) };
    }
    const kind = { namespace: target.namespace, type: target.type, id: '*' };
    if (initial === 'current') {
      const p = { ...kind, id: target.id ?? '' };
      const row = this.rules.row(p);
      return { cursor: revision, events: row ? [{ type: 'created', resource: this.codec.resource(row.meta, row.spec, p), bookmark: revision }] : [] };
    }
    if (initial === 'bootstrap') return { cursor: revision, events: bootstrapEvents(this.listNow(kind, { labels: target.labels, idPrefix: target.idPrefix }), revision) };
    return { cursor: revision, events: [] };
  }

  private listNow<Spec>(kind: Pointer, options: ListOptions): Resource<Spec>[] {
    const prefix = options.idPrefix ?? '';
    const rows: ListedRow[] = [];
    if (options.ids) {
      for (const id of [...new Set(options.ids)].sort()) {
        const row = this.rules.row({ ...kind, id });
        if (row && id.startsWith(prefix)) rows.push({ id, meta: row.meta, spec: row.spec });
      }
    } else {
      for (const row of this.s.listFrom.iterate(kind.namespace, kind.type, prefix)) {
        if (!row.id.startsWith(prefix)) break;
        rows.push(row);
      }
    }
    return listedResources<Spec>(this.codec, kind, rows, options.labels);
  }

  private currentRevision(): number {
    return this.s.maxRevision.get() ?? 0;
  }

  /** Opens the key and proves it is the one this file was written with, before anything is read or written. */
  private unlock(source: StateKeySource, readOnly: boolean, env: KeyEnvironment | undefined): { box: SecretBox | undefined; origin: string } {
    const check = this.s.getMeta.get(KEY_CHECK);
    const loaded = loadStateKey(source, this.path, check !== undefined, !readOnly, env);
    if (!loaded.key) {
      if (check !== undefined) {
        throw new EncryptionError(`store "${this.path}" holds encrypted data: open it with its key (key file or TRUSTPLANE_STATE_KEY), not encryptionKey 'none'`);
      }
      return { box: undefined, origin: loaded.origin };
    }
    const box = new SecretBox(loaded.key);
    // A reader of a store that never held a sealed spec has nothing to prove the key against; it still refuses plaintext.
    if (check === undefined && readOnly) return { box, origin: loaded.origin };
    if (check === undefined) this.s.putMetaOnce.run(KEY_CHECK, sealKeyCheck(box));
    if (!keyCheckOpens(box, check ?? this.s.getMeta.get(KEY_CHECK))) {
      throw new EncryptionError(
        `the key from ${loaded.origin} is not the key store "${this.path}" was encrypted with: ` +
          `restore the store's original key file or set TRUSTPLANE_STATE_KEY to its key`,
      );
    }
    return { box, origin: loaded.origin };
  }

  private txn<T>(mode: 'immediate' | 'deferred', fn: () => T): T {
    return this.inTransaction[mode](fn) as T;
  }

  protected assertOpen(): void {
    if (this.closed) throw new UnavailableError(`store "${this.path}" is closed`);
  }

  private translate(err: unknown): unknown {
    if (err instanceof Database.SqliteError && (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED')) {
      return new UnavailableError(`"${this.path}" is locked by another writer (${err.code}): retry, or raise busyTimeoutMs`);
    }
    if (err instanceof Database.SqliteError && err.code === 'SQLITE_READONLY') {
      return new UnavailableError(`"${this.path}" was opened read-only: write through trustctl serve's API, or open it for writing`);
    }
    return corruptStoreError(this.path, err);
  }
}

