// The embedded State backend: one SQLite file in WAL mode. Every write is one immediate transaction that checks,
// writes the row with a compare-and-swap on version and appends to an event log keyed by a store-wide revision;
// watches replay that log from a bookmark and then follow live commits (this process's at once, other processes'
// by polling), so a watcher can resume after a restart until the bookmark falls out of the retained history.
import Database from 'better-sqlite3';
import { modifyLoop } from '../modify-loop.js';
import { chmodSync, existsSync } from 'node:fs';
// The deep import loads only Observable; 'rxjs' loads every operator, ~0.4 s at every CLI start on a small machine.
import { Observable } from 'rxjs/internal/Observable';
import type { Clock } from '../clock.js';
import { EncryptionError, InvalidBookmarkError, NotFoundError, UnavailableError, ValidationError } from '../errors.js';
import { labelsMatch } from '../label-query.js';
import type { Kind, NewResource, Pointer, Resource, ResourceRegistry } from '../resource.js';
import { SecretBox } from '../encryption/secret-box.js';
import { loadStateKey } from '../encryption/state-key.js';
import type { StateKeySource } from '../encryption/state-key.js';
import type {
  BatchOp,
  Bookmark,
  DestroyOptions,
  ListOptions,
  ModifyResult,
  State,
  UpdateOptions,
  WatchEvent,
  WatchKindOptions,
  WatchOptions,
  WriteOptions,
} from '../state.js';
import { ResourceWriter } from './resource-writer.js';
import type { WriteContext } from './resource-writer.js';
import type { EventRow, ListedRow } from './rows.js';
import { migrate, schemaVersion } from './schema.js';
import { corruptStoreError, refuseEmptiedStore, requireCurrentSchema } from './store-file.js';
import { replayable } from './event-history.js';
import { SpecCodec, sensitiveTypes } from './spec-codec.js';
import type { SensitiveTypes } from './spec-codec.js';
import { prepareStatements } from './statements.js';
import type { Statements } from './statements.js';
import { WatchHub, project } from './watch-hub.js';
import type { WatchTarget, Watcher } from './watch-hub.js';

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
const KEY_CHECK = 'key-check';
const KEY_CHECK_TEXT = 'trustplane state key check';

export async function openSqliteState(options: SqliteStateOptions): Promise<SqliteState> {
  return SqliteState.open(options);
}

export class SqliteState implements State {
  readonly encryptedAtRest: boolean;
  readonly path: string;
  /** Where the encryption key came from (never the key), e.g. `key file "/var/lib/trustplane/state.db.key"`. */
  readonly keyOrigin: string;

  private readonly s: Statements;
  private readonly writer: ResourceWriter;
  private readonly codec: SpecCodec;
  private readonly sensitive: SensitiveTypes;
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
    this.path = options.path;
    this.historyLimit = historyLimit;
    this.pruneEvery = Math.max(1, Math.min(256, Math.floor(historyLimit / 16)));
    this.s = prepareStatements(db);
    this.sensitive = sensitiveTypes(options.registry);
    const box = this.unlock(options.encryptionKey ?? 'auto', options.readOnly === true);
    this.encryptedAtRest = box.box !== undefined;
    this.keyOrigin = box.origin;
    this.codec = new SpecCodec(box.box, box.origin, options.path, this.sensitive);
    this.writer = new ResourceWriter(this.s, options.registry, this.codec);
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

  async get<Spec = unknown>(pointer: Pointer): Promise<Resource<Spec>> {
    const found = await this.find<Spec>(pointer);
    if (!found) throw new NotFoundError(this.writer.locate(pointer, 'pointer').what);
    return found;
  }

  async find<Spec = unknown>(pointer: Pointer): Promise<Resource<Spec> | undefined> {
    this.assertOpen();
    const { pointer: p } = this.writer.locate(pointer, 'pointer');
    const row = this.writer.row(p);
    return row ? this.codec.resource<Spec>(row.meta, row.spec, p) : undefined;
  }

  async list<Spec = unknown>(kind: Kind, options: ListOptions = {}): Promise<Resource<Spec>[]> {
    this.assertOpen();
    return this.txn('deferred', () => this.listNow<Spec>(kind, options));
  }

  async create<Spec = unknown>(resource: NewResource<Spec>, options: WriteOptions = {}): Promise<Resource<Spec>> {
    return this.write((ctx) => this.writer.create(ctx, resource, options.owner ?? '')) as Resource<Spec>;
  }

  async update<Spec = unknown>(resource: Resource<Spec>, options: UpdateOptions = {}): Promise<Resource<Spec>> {
    return this.write((ctx) => this.writer.update(ctx, resource, options)) as Resource<Spec>;
  }

  async destroy(pointer: Pointer, options: DestroyOptions = {}): Promise<void> {
    this.write((ctx) => this.writer.destroy(ctx, pointer, options.owner ?? '', options.expectedVersion));
  }

  async teardown(pointer: Pointer, options: WriteOptions = {}): Promise<boolean> {
    return this.write((ctx) => this.writer.teardown(ctx, pointer, options.owner ?? ''));
  }

  async addFinalizer(pointer: Pointer, ...finalizers: string[]): Promise<Resource> {
    return this.write((ctx) => this.writer.addFinalizers(ctx, pointer, finalizers));
  }

  async removeFinalizer(pointer: Pointer, ...finalizers: string[]): Promise<Resource> {
    return this.write((ctx) => this.writer.removeFinalizers(ctx, pointer, finalizers));
  }

  async modify<Spec = unknown>(
    pointer: Pointer,
    mutate: (current: Resource<Spec> | undefined) => ModifyResult<Spec> | undefined,
    options: UpdateOptions = {},
  ): Promise<Resource<Spec> | undefined> {
    const { def, pointer: p } = this.writer.locate(pointer, 'pointer');
    return modifyLoop<Spec>(this, def, p, mutate, options);
  }

  async batch(ops: BatchOp[]): Promise<Resource[]> {
    return this.write((ctx) =>
      ops.map((op, i) => {
        try {
          switch (op.op) {
            case 'create':
              return this.writer.create(ctx, op.resource, op.owner ?? '');
            case 'update':
              return this.writer.update(ctx, op.resource, { owner: op.owner });
            case 'destroy':
              return this.writer.destroy(ctx, op.pointer, op.owner ?? '', op.expectedVersion);
          }
        } catch (err) {
          if (err instanceof Error) err.message = `batch op ${i} (${op.op}): ${err.message}`;
          throw err;
        }
      }),
    );
  }

  watch<Spec = unknown>(pointer: Pointer, options: WatchOptions = {}): Observable<WatchEvent<Spec>> {
    return this.observe<Spec>(() => {
      const { pointer: p } = this.writer.locate(pointer, 'pointer');
      return { target: { namespace: p.namespace, type: p.type, id: p.id }, since: options.since, initial: 'current' };
    });
  }

  watchKind<Spec = unknown>(kind: Kind, options: WatchKindOptions = {}): Observable<WatchEvent<Spec>> {
    return this.observe<Spec>(() => {
      if (options.bootstrap && options.since !== undefined) {
        throw new ValidationError('since', 'cannot be combined with bootstrap: resume from a bookmark, or bootstrap from the current state');
      }
      const { pointer: p } = this.writer.locate({ ...kind, id: '*' }, 'kind');
      const target: WatchTarget = { namespace: p.namespace, type: p.type, labels: options.labels, idPrefix: options.idPrefix };
      return { target, since: options.since, initial: options.bootstrap ? 'bootstrap' : 'none' };
    });
  }

  async revision(): Promise<Bookmark> {
    this.assertOpen();
    return this.currentRevision();
  }

  async verifySealing(): Promise<void> {
    this.assertOpen();
    this.txn('deferred', () => {
      for (const row of this.s.allRows.iterate()) this.codec.verify(row, row.spec);
      for (const row of this.s.allEvents.iterate()) this.codec.verifyEvent(row);
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

  private observe<Spec>(plan: () => { target: WatchTarget; since?: Bookmark; initial: 'current' | 'bootstrap' | 'none' }): Observable<WatchEvent<Spec>> {
    return new Observable<WatchEvent<Spec>>((subscriber) => {
      let watcher: Watcher | undefined;
      try {
        this.assertOpen();
        const { target, since, initial } = plan();
        const { cursor, events } = this.txn('deferred', () => this.snapshot(target, since, initial));
        watcher = { target, cursor, subscriber: subscriber as unknown as Watcher['subscriber'] };
        this.hub.add(watcher);
        for (const event of events) {
          if (subscriber.closed) break;
          subscriber.next(event as WatchEvent<Spec>);
        }
      } catch (err) {
        subscriber.error(this.translate(err));
      }
      return () => {
        if (watcher && !this.closed) this.hub.remove(watcher);
      };
    });
  }

  /** What a new watcher sees before live events, read in one snapshot; `cursor` is the revision it covers. */
  private snapshot(target: WatchTarget, since: Bookmark | undefined, initial: 'current' | 'bootstrap' | 'none'): { cursor: number; events: WatchEvent[] } {
    const revision = this.currentRevision();
    const events: WatchEvent[] = [];
    if (since !== undefined) {
      this.checkBookmark(since, revision);
      for (const row of replayable(this.s.kindEventsAfter.all(target.namespace, target.type, since), this.sensitive)) {
        const event = project(target, this.codec.event(row));
        if (event) events.push(event);
      }
    } else if (initial === 'current') {
      const p = { namespace: target.namespace, type: target.type, id: target.id ?? '' };
      const row = this.writer.row(p);
      if (row) events.push({ type: 'created', resource: this.codec.resource(row.meta, row.spec, p), bookmark: revision });
    } else if (initial === 'bootstrap') {
      const kind = { namespace: target.namespace, type: target.type };
      for (const resource of this.listNow(kind, { labels: target.labels, idPrefix: target.idPrefix })) {
        events.push({ type: 'created', resource, bookmark: revision });
      }
      events.push({ type: 'bootstrapped', bookmark: revision });
    }
    return { cursor: revision, events };
  }

  private checkBookmark(since: Bookmark, revision: number): void {
    if (!Number.isInteger(since) || since < 0) throw new ValidationError('since', `expected a bookmark (an integer >= 0), got ${since}`);
    const oldest = this.s.minRevision.get() ?? revision + 1;
    if (since < oldest - 1) throw new InvalidBookmarkError(since, oldest);
    if (since > revision) {
      throw new InvalidBookmarkError(since, oldest, `bookmark ${since} is ahead of this store's revision ${revision}: it belongs to another store; list again and watch from the current revision`);
    }
  }

  private listNow<Spec>(kind: Kind, options: ListOptions): Resource<Spec>[] {
    const { pointer: p } = this.writer.locate({ ...kind, id: '*' }, 'kind');
    const prefix = options.idPrefix ?? '';
    const out: Resource<Spec>[] = [];
    const consider = (row: ListedRow) => {
      if (!row.id.startsWith(prefix)) return;
      const metadata = JSON.parse(row.meta) as Resource['metadata'];
      if (!labelsMatch(metadata.labels, options.labels)) return;
      out.push({ metadata, spec: this.codec.decode(row.spec, { ...p, id: row.id }) as Spec });
    };
    if (options.ids) {
      for (const id of [...new Set(options.ids)].sort()) {
        const row = this.writer.row({ ...p, id });
        if (row) consider({ id, meta: row.meta, spec: row.spec });
      }
      return out;
    }
    for (const row of this.s.listFrom.iterate(p.namespace, p.type, prefix)) {
      if (!row.id.startsWith(prefix)) break;
      consider(row);
    }
    return out;
  }

  private currentRevision(): number {
    return this.s.maxRevision.get() ?? 0;
  }

  /** Opens the key and proves it is the one this file was written with, before anything is read or written. */
  private unlock(source: StateKeySource, readOnly: boolean): { box: SecretBox | undefined; origin: string } {
    const check = this.s.getMeta.get(KEY_CHECK);
    const loaded = loadStateKey(source, this.path, check !== undefined, !readOnly);
    if (!loaded.key) {
      if (check !== undefined) {
        throw new EncryptionError(`store "${this.path}" holds encrypted data: open it with its key (key file or TRUSTPLANE_STATE_KEY), not encryptionKey 'none'`);
      }
      return { box: undefined, origin: loaded.origin };
    }
    const box = new SecretBox(loaded.key);
    // A reader of a store that never held a sealed spec has nothing to prove the key against; it still refuses plaintext.
    if (check === undefined && readOnly) return { box, origin: loaded.origin };
    if (check === undefined) this.s.putMetaOnce.run(KEY_CHECK, box.seal(KEY_CHECK_TEXT, KEY_CHECK));
    const stored = check ?? this.s.getMeta.get(KEY_CHECK);
    if (!Buffer.isBuffer(stored) || box.open(stored, KEY_CHECK) !== KEY_CHECK_TEXT) {
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

  private assertOpen(): void {
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

