// The distributed State backend on etcd v3. Every write transaction compares the store's revision key (a CAS on its
// mod_revision), so writes are serializable exactly as SQLite's single writer makes them; it writes the resource keys,
// one change-log entry per change and the new revision in one etcd txn. Bookmarks are this logical revision, so a
// batch gets consecutive bookmarks and other users of the cluster (the leader key, other stores) leave no gaps.
// Watches follow the change log with one etcd watch; a bookmark older than the retained log is InvalidBookmarkError.
import type { ICompare, IKeyValue, IRequestOp } from 'etcd3';
import { Observable } from 'rxjs/internal/Observable';
import type { Clock } from '../clock.js';
import { EncryptionError, UnavailableError, ValidationError } from '../errors.js';
import type { Pointer, Resource, ResourceRegistry } from '../resource.js';
import { SecretBox } from '../encryption/secret-box.js';
import { STATE_KEY_ENV, loadStateKey } from '../encryption/state-key.js';
import type { KeyEnvironment, StateKeySource } from '../encryption/state-key.js';
import type { Bookmark, ListOptions, WatchEvent } from '../state.js';
import { FencedWriteError } from '../leader-election.js';
import { KEY_CHECK, keyCheckOpens, sealKeyCheck } from '../store/key-check.js';
import { listedResources } from '../store/listed-rows.js';
import type { ResourceRow } from '../store/rows.js';
import { SpecCodec, sensitiveTypes } from '../store/spec-codec.js';
import type { SensitiveTypes } from '../store/spec-codec.js';
import { StateCore } from '../store/state-core.js';
import type { WatchPlan } from '../store/state-core.js';
import { bootstrapEvents, checkBookmark, replayEvents } from '../store/watch-start.js';
import type { WatchTarget } from '../store/watch-projection.js';
import { WriteRules } from '../store/write-rules.js';
import type { WriteContext } from '../store/write-rules.js';
import { EtcdConnection } from './etcd-connection.js';
import { EtcdKeys, prefixEnd } from './etcd-keys.js';
import { parseEtcdUrl } from './etcd-url.js';
import { EtcdWatchHub } from './etcd-watch-hub.js';
import type { HubWatcher } from './etcd-watch-hub.js';
import { RowOverlay, rowKey } from './row-overlay.js';
import { decodeEvent, decodeRow, encodeEvent, encodeRow } from './stored-value.js';

export interface EtcdStateOptions {
  /** `etcd://HOST:PORT[,HOST:PORT...]/PREFIX`. */
  url: string;
  registry: ResourceRegistry;
  clock?: Clock;
  /**
   * The key that seals sensitive specs before they reach etcd: a 32-byte Buffer, 'env' (TRUSTPLANE_STATE_KEY), 'file'
   * (keyFile, created 0600 on first use), 'auto' (env when set, else keyFile; the default) or 'none'.
   * Every replica of one store needs the same key.
   */
  encryptionKey?: StateKeySource;
  /** Where 'env' and 'auto' read TRUSTPLANE_STATE_KEY (default: process.env). */
  keyEnv?: KeyEnvironment;
  /** The key file for 'file' and 'auto'; its name must end in `.key`. */
  keyFile?: string;
  /** Revisions of change log kept for resuming watches (default 10,000); pruned in steps like SQLite's. */
  historyLimit?: number;
  /** Deadline of each etcd call (default 5 s): past it the call fails with UnavailableError. */
  callTimeoutMs?: number;
  /** etcd's --max-txn-ops (default 128, etcd's own default): a write needing more operations is refused up front. */
  maxTxnOps?: number;
}

/** A leader's claim, checked by every write of a fenced view: the leader key must still be the one it created. */
export interface EtcdFence {
  key: Buffer;
  createRevision: string;
  /** Names the term in the refusal, e.g. `replica-a (term 42)`. */
  holder: string;
}

export const DEFAULT_ETCD_HISTORY_LIMIT = 10_000;
const WRITE_ATTEMPTS = 64;

interface Core {
  conn: EtcdConnection;
  keys: EtcdKeys;
  url: string;
  codec: SpecCodec;
  sensitive: SensitiveTypes;
  rows: RowOverlay;
  rules: WriteRules;
  hub: EtcdWatchHub;
  now: () => string;
  historyLimit: number;
  pruneEvery: number;
  maxTxnOps: number;
  encrypted: boolean;
  /**
   * What this client last knew for sure: the store revision key's mod_revision and rows as they were at it. While the
   * key is still at that mod_revision nobody has written since, so a write can skip its snapshot read and go straight
   * to the txn, which checks exactly that; when the check fails the write reads and tries again.
   */
  cache?: Snapshot;
  /** Serializes this client's writes: they all compare one revision key, so running them at once only causes retries. */
  queue: Promise<unknown>;
  closed: boolean;
}

interface Snapshot {
  revision: number;
  /** mod_revision of the revision key, '0' while the store is empty. */
  revisionMod: string;
  rows: Map<string, ResourceRow | undefined>;
  /** Keys taken to be absent without reading them (from the cache): the txn checks they are. */
  assumedAbsent?: Map<string, Buffer>;
}

/** Keeps the cached rows to this many, so a client that touches everything does not hold the whole store. */
const CACHE_ROWS = 10_000;

export async function openEtcdState(options: EtcdStateOptions): Promise<EtcdState> {
  return EtcdState.open(options);
}

export class EtcdState extends StateCore {
  protected readonly rules: WriteRules;

  private constructor(
    private readonly core: Core,
    private readonly fence: EtcdFence | undefined,
  ) {
    super();
    this.rules = core.rules;
  }

  static async open(options: EtcdStateOptions): Promise<EtcdState> {
    const historyLimit = options.historyLimit ?? DEFAULT_ETCD_HISTORY_LIMIT;
    if (!Number.isInteger(historyLimit) || historyLimit < 1) {
      throw new ValidationError('historyLimit', `expected an integer >= 1, got ${historyLimit}`);
    }
    const location = parseEtcdUrl(options.url);
    const conn = new EtcdConnection({ hosts: location.hosts, callTimeoutMs: options.callTimeoutMs });
    try {
      const keys = new EtcdKeys(location.prefix);
      const box = await unlock(conn, keys, options);
      const sensitive = sensitiveTypes(options.registry);
      const codec = new SpecCodec(box, box ? 'the store key' : 'none', options.url, sensitive);
      const rows = new RowOverlay();
      const clock = options.clock;
      const core: Core = {
        conn,
        keys,
        url: options.url,
        codec,
        rows,
        rules: new WriteRules(rows, options.registry, codec),
        hub: new EtcdWatchHub(conn, keys, (row) => codec.event(row)),
        sensitive,
        now: clock ? () => new Date(clock.now().toMillis()).toISOString() : () => new Date().toISOString(),
        historyLimit,
        pruneEvery: Math.max(1, Math.min(256, Math.floor(historyLimit / 16))),
        maxTxnOps: options.maxTxnOps ?? 128,
        encrypted: box !== undefined,
        queue: Promise.resolve(),
        closed: false,
      };
      return new EtcdState(core, undefined);
    } catch (err) {
      conn.close();
      throw err;
    }
  }

  get encryptedAtRest(): boolean {
    return this.core.encrypted;
  }

  /** The etcd client, for leader election on the same connection. */
  get connection(): EtcdConnection {
    return this.core.conn;
  }

  /** Whether close() was called (on this store or any view of it). */
  get closed(): boolean {
    return this.core.closed;
  }

  get keys(): EtcdKeys {
    return this.core.keys;
  }

  /** A view of this store whose every write is refused (FencedWriteError) once `fence` no longer holds. */
  fenced(fence: EtcdFence): EtcdState {
    return new EtcdState(this.core, fence);
  }

  protected async read<Spec>(p: Pointer): Promise<Resource<Spec> | undefined> {
    const { kvs } = await this.core.conn.read([{ key: this.core.keys.resource(p) }]);
    const kv = kvs[0][0];
    if (!kv) return undefined;
    const row = decodeRow(kv.value);
    return this.core.codec.resource<Spec>(row.meta, row.spec, p);
  }

  protected async readKind<Spec>(kind: Pointer, options: ListOptions): Promise<Resource<Spec>[]> {
    const { kvs } = await this.core.conn.read(this.listRanges(kind, options));
    return this.listed<Spec>(kind, options, kvs.flat());
  }

  protected transact<T>(pointers: Pointer[], fn: (ctx: WriteContext, rules: WriteRules) => T): Promise<T> {
    return this.enqueue(() => this.writeNow(pointers, fn));
  }

  async revision(): Promise<Bookmark> {
    this.assertOpen();
    const { kvs } = await this.core.conn.read([{ key: this.core.keys.revision }]);
    return revisionOf(kvs[0][0]);
  }

  async verifySealing(): Promise<void> {
    this.assertOpen();
    const { keys, conn, codec } = this.core;
    const resources = Buffer.from(`${keys.prefix}/res/`);
    const log = Buffer.from(keys.logPrefix);
    for await (const kv of scan(conn, resources)) {
      const [namespace, type, id] = kv.key.subarray(resources.length).toString().split('\u0000');
      codec.verify({ namespace, type, id }, decodeRow(kv.value).spec);
    }
    for await (const kv of scan(conn, log)) codec.verifyEvent(decodeEvent(kv.value));
  }

  /** Closes the client and completes every watcher (a fenced view closes the store it views). */
  async close(): Promise<void> {
    if (this.core.closed) return;
    this.core.closed = true;
    this.core.hub.completeAll();
    this.core.conn.close();
  }

  /** Runs after every write this client started before, and before every one it starts after. */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.core.queue.then(task, task);
    this.core.queue = run.catch(() => undefined);
    return run;
  }

  private async writeNow<T>(pointers: Pointer[], fn: (ctx: WriteContext, rules: WriteRules) => T): Promise<T> {
    this.assertOpen();
    const { conn, keys, rules, rows } = this.core;
    // A pointer that does not resolve is left for the writer, which refuses it with the message SQLite gives.
    const located = pointers.flatMap((p) => {
      try {
        return [rules.locate(p).pointer];
      } catch {
        return [];
      }
    });
    let snap = this.cached(located);
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      snap ??= await this.snapshot(located);
      const guessed = snap.assumedAbsent !== undefined;
      rows.reset(new Map(snap.rows));
      const ctx: WriteContext = { revision: snap.revision, now: this.core.now(), events: [] };
      let result: T;
      try {
        result = fn(ctx, rules);
      } catch (err) {
        // A refusal must rest on what etcd holds, not on what this client remembered.
        if (!guessed) throw err;
        snap = undefined;
        continue;
      }
      if (ctx.events.length === 0) {
        if (!guessed) return result;
        snap = undefined;
        continue;
      }
      const ops = this.commitOps(snap.revision, ctx);
      if (ops.length > this.core.maxTxnOps) {
        throw new ValidationError(
          'batch',
          `${ctx.events.length} changes need ${ops.length} etcd operations in one transaction, over etcd's limit of ${this.core.maxTxnOps}: ` +
            `split the batch, or raise etcd's --max-txn-ops and the store's maxTxnOps`,
        );
      }
      const compare: ICompare[] = [
        snap.revisionMod === '0'
          ? { key: keys.revision, target: 'Version', result: 'Equal', version: 0 }
          : { key: keys.revision, target: 'Mod', result: 'Equal', mod_revision: snap.revisionMod },
      ];
      for (const key of snap.assumedAbsent?.values() ?? []) compare.push({ key, target: 'Version', result: 'Equal', version: 0 });
      if (this.fence) compare.push({ key: this.fence.key, target: 'Create', result: 'Equal', create_revision: this.fence.createRevision });
      const res = await conn.txn(compare, ops, this.fence ? [{ request_range: { key: this.fence.key } }] : []);
      if (res.succeeded) {
        this.remember(snap, ctx.revision, res.header.revision, rows.current());
        return result;
      }
      this.core.cache = undefined;
      snap = undefined;
      if (this.fence) {
        const holder = res.responses[0]?.response_range.kvs[0];
        if (holder?.create_revision !== this.fence.createRevision) throw new FencedWriteError(this.fence.holder);
      }
    }
    throw new UnavailableError(`${this.core.url}: ${WRITE_ATTEMPTS} write attempts in a row lost to concurrent writers; retry`);
  }

  /** The snapshot a write may start from without reading: cached rows, and the pointers the cache lacks taken as absent. */
  private cached(pointers: Pointer[]): Snapshot | undefined {
    const cache = this.core.cache;
    if (!cache) return undefined;
    const rows = new Map<string, ResourceRow | undefined>();
    const assumedAbsent = new Map<string, Buffer>();
    for (const p of pointers) {
      const key = rowKey(p);
      if (cache.rows.has(key)) rows.set(key, cache.rows.get(key));
      else {
        rows.set(key, undefined);
        assumedAbsent.set(key, this.core.keys.resource(p));
      }
    }
    return { revision: cache.revision, revisionMod: cache.revisionMod, rows, assumedAbsent };
  }

  /**
   * After a commit from `base`: the txn proved nobody wrote since base, so what the cache knew at base still holds,
   * updated by this write's rows, at the new mod_revision.
   */
  private remember(base: Snapshot, revision: number, revisionMod: string, written: ReadonlyMap<string, ResourceRow | undefined>): void {
    const cache = this.core.cache;
    const rows = cache && cache.revisionMod === base.revisionMod && cache.rows.size < CACHE_ROWS ? cache.rows : new Map<string, ResourceRow | undefined>();
    for (const [k, v] of written) rows.set(k, v);
    this.core.cache = { revision, revisionMod, rows };
  }

  /** The rows a write touches and the store revision, read at one etcd revision. */
  private async snapshot(pointers: Pointer[]): Promise<Snapshot> {
    const { keys, conn } = this.core;
    const unique = [...new Map(pointers.map((p) => [rowKey(p), p])).values()];
    const { kvs } = await conn.read([{ key: keys.revision }, ...unique.map((p) => ({ key: keys.resource(p) }))]);
    const rows = new Map<string, ResourceRow | undefined>();
    unique.forEach((p, i) => {
      const kv = kvs[i + 1][0];
      rows.set(rowKey(p), kv ? decodeRow(kv.value) : undefined);
    });
    const revKv = kvs[0][0];
    return { revision: revisionOf(revKv), revisionMod: revKv ? revKv.mod_revision : '0', rows };
  }

  /** One op per resource key (etcd refuses a key twice in a txn): its final state; then the log, the revision and pruning. */
  private commitOps(first: number, ctx: WriteContext): IRequestOp[] {
    const { keys, rows, historyLimit, pruneEvery } = this.core;
    const ops: IRequestOp[] = [];
    const touched = new Map(ctx.events.map((e) => [rowKey(e), e as Pointer]));
    const finalRows = rows.current();
    for (const [key, p] of touched) {
      const row = finalRows.get(key);
      const k = keys.resource(p);
      ops.push(row ? { request_put: { key: k, value: encodeRow(row) } } : { request_delete_range: { key: k } });
    }
    for (const e of ctx.events) ops.push({ request_put: { key: keys.log(e.revision), value: encodeEvent(e) } });
    ops.push({ request_put: { key: keys.revision, value: Buffer.from(String(ctx.revision)) } });
    // Pruning rides along when there is room under etcd's op limit; a skipped step is covered by the next one.
    const due = Math.floor(ctx.revision / pruneEvery) > Math.floor(first / pruneEvery) && ctx.revision - historyLimit > 0;
    if (due && ops.length < this.core.maxTxnOps) {
      ops.push({ request_delete_range: { key: keys.log(0), range_end: keys.log(ctx.revision - historyLimit + 1) } });
    }
    return ops;
  }

  protected observe<Spec>(plan: () => WatchPlan): Observable<WatchEvent<Spec>> {
    // The store does not know Spec (no backend checks a spec's type on read): the caller's parameter names it.
    const events = new Observable<WatchEvent>((subscriber) => {
      let watcher: HubWatcher | undefined;
      let ended = false;
      const start = async () => {
        const { target, since, initial } = plan();
        this.assertOpen();
        watcher = { target, cursor: Number.MAX_SAFE_INTEGER, subscriber };
        await this.core.hub.add(watcher);
        const { cursor, events } = await this.startingPoint(target, since, initial);
        if (ended) return;
        watcher.cursor = cursor;
        for (const event of events) {
          if (subscriber.closed) break;
          subscriber.next(event);
        }
        this.core.hub.release(watcher);
      };
      // Queued with this client's writes: a watch starts where the store stood when subscribed, as SQLite's does, so
      // a write made right after subscribing is seen.
      this.enqueue(start).catch((err: unknown) => {
        if (watcher) this.core.hub.remove(watcher);
        subscriber.error(this.core.conn.unavailable(err));
      });
      return () => {
        ended = true;
        if (watcher && !this.core.closed) this.core.hub.remove(watcher);
      };
    });
    return events as Observable<WatchEvent<Spec>>;
  }

  /** What a new watcher sees before live events, read at one etcd revision; `cursor` is the logical revision it covers. */
  private async startingPoint(target: WatchTarget, since: Bookmark | undefined, initial: WatchPlan['initial']): Promise<{ cursor: number; events: WatchEvent[] }> {
    const { keys, conn, codec } = this.core;
    const kind = { namespace: target.namespace, type: target.type, id: '*' };
    if (since !== undefined) {
      const logEnd = prefixEnd(keys.logPrefix);
      const { kvs } = await conn.read([
        { key: keys.revision },
        { key: Buffer.from(keys.logPrefix), end: logEnd, limit: 1 },
        { key: keys.log(Number.isInteger(since) && since >= 0 ? since + 1 : 0), end: logEnd },
      ]);
      const revision = revisionOf(kvs[0][0]);
      checkBookmark(since, kvs[1][0] ? decodeEvent(kvs[1][0].value).revision : revision + 1, revision);
      const rows = kvs[2].map((kv) => decodeEvent(kv.value)).filter((row) => row.revision <= revision && row.namespace === kind.namespace && row.type === kind.type);
      return { cursor: revision, events: replayEvents(target, rows, codec, this.core.sensitive) };
    }
    if (initial === 'current') {
      const p = { ...kind, id: target.id ?? '' };
      const { kvs } = await conn.read([{ key: keys.revision }, { key: keys.resource(p) }]);
      const revision = revisionOf(kvs[0][0]);
      const kv = kvs[1][0];
      if (!kv) return { cursor: revision, events: [] };
      const row = decodeRow(kv.value);
      return { cursor: revision, events: [{ type: 'created', resource: codec.resource(row.meta, row.spec, p), bookmark: revision }] };
    }
    if (initial === 'bootstrap') {
      const options = { labels: target.labels, idPrefix: target.idPrefix };
      const { kvs } = await conn.read([{ key: keys.revision }, ...this.listRanges(kind, options)]);
      const revision = revisionOf(kvs[0][0]);
      return { cursor: revision, events: bootstrapEvents(this.listed(kind, options, kvs.slice(1).flat()), revision) };
    }
    return { cursor: revisionOf((await conn.read([{ key: keys.revision }])).kvs[0][0]), events: [] };
  }

  private listRanges(kind: Pointer, options: ListOptions): { key: Buffer; end?: Buffer }[] {
    const keys = this.core.keys;
    if (options.ids) return [...new Set(options.ids)].sort().map((id) => ({ key: keys.resource({ ...kind, id }) }));
    const start = Buffer.from(keys.kindPrefix(kind) + (options.idPrefix ?? ''));
    return [{ key: start, end: prefixEnd(start) }];
  }

  private listed<Spec>(kind: Pointer, options: ListOptions, kvs: IKeyValue[]): Resource<Spec>[] {
    const prefix = Buffer.byteLength(this.core.keys.kindPrefix(kind));
    const rows = kvs.map((kv) => ({ id: kv.key.subarray(prefix).toString(), ...decodeRow(kv.value) }));
    // Asked by ids, a key that does not start with the prefix is not listed (as SQLite lists).
    const wanted = options.ids && options.idPrefix ? rows.filter((r) => r.id.startsWith(options.idPrefix ?? '')) : rows;
    return listedResources<Spec>(this.core.codec, kind, wanted, options.labels);
  }

  protected assertOpen(): void {
    if (this.core.closed) throw new UnavailableError(`store "${this.core.url}" is closed`);
  }
}

/** Every key under `prefix`, read in pages (a whole history in one response could pass gRPC's message limit). */
async function* scan(conn: EtcdConnection, prefix: Buffer, page = 256): AsyncGenerator<IKeyValue> {
  const end = prefixEnd(prefix);
  let from = prefix;
  for (;;) {
    const { kvs } = await conn.read([{ key: from, end, limit: page }]);
    yield* kvs[0];
    if (kvs[0].length < page) return;
    from = Buffer.concat([kvs[0][kvs[0].length - 1].key, Buffer.from([0])]);
  }
}

function revisionOf(kv: IKeyValue | undefined): number {
  return kv ? Number(kv.value.toString()) : 0;
}


/** Opens the key and proves it is the one this store was written with, before anything is read or written. */
async function unlock(conn: EtcdConnection, keys: EtcdKeys, options: EtcdStateOptions): Promise<SecretBox | undefined> {
  const checkKey = keys.meta(KEY_CHECK);
  const read = async () => (await conn.read([{ key: checkKey }])).kvs[0][0]?.value;
  const check = await read();
  const source = options.encryptionKey ?? 'auto';
  const usesFile = source === 'file' || (source === 'auto' && (options.keyEnv ?? process.env)[STATE_KEY_ENV] === undefined);
  if (usesFile && !options.keyFile?.endsWith('.key')) {
    throw new EncryptionError(
      options.keyFile
        ? `keyFile "${options.keyFile}" must end in ".key"`
        : `store "${options.url}" needs an encryption key: set ${STATE_KEY_ENV} (the same on every replica) or give a keyFile`,
    );
  }
  const loaded = loadStateKey(source, usesFile ? options.keyFile!.slice(0, -'.key'.length) : options.url, check !== undefined, true, options.keyEnv);
  if (!loaded.key) {
    if (check !== undefined) {
      throw new EncryptionError(`store "${options.url}" holds encrypted data: open it with its key (${STATE_KEY_ENV} or its key file), not encryptionKey 'none'`);
    }
    return undefined;
  }
  const box = new SecretBox(loaded.key);
  if (check === undefined) {
    // First writer wins: a replica opening a new store at the same time reads back the check the other one stored.
    await conn.txn([{ key: checkKey, target: 'Create', result: 'Equal', create_revision: 0 }], [{ request_put: { key: checkKey, value: sealKeyCheck(box) } }]);
  }
  if (!keyCheckOpens(box, check ?? (await read()))) {
    throw new EncryptionError(
      `the key from ${loaded.origin} is not the key store "${options.url}" was encrypted with: set ${STATE_KEY_ENV} to the store's key, or restore its key file`,
    );
  }
  return box;
}
