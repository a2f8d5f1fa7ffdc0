// One etcd watch on the store's change log feeds every watcher of this client. A new watcher registers (buffering)
// before it reads its starting snapshot, and the etcd watch started before any snapshot was read, so whatever is
// committed after the snapshot reaches the buffer: nothing is lost, and the watcher's cursor (the logical revision
// its snapshot covered) drops what the snapshot already showed: nothing is repeated.
import type { Subscriber } from 'rxjs';
import type { Watcher as EtcdWatcher } from 'etcd3';
import { UnavailableError } from '../errors.js';
import type { WatchEvent } from '../state.js';
import type { EventRow } from '../sqlite/rows.js';
import { kindKey, project } from '../sqlite/watch-hub.js';
import type { DecodedEvent, WatchTarget } from '../sqlite/watch-hub.js';
import type { EtcdConnection } from './etcd-connection.js';
import { prefixEnd } from './etcd-keys.js';
import type { EtcdKeys } from './etcd-keys.js';
import { decodeEvent } from './stored-value.js';

export interface HubWatcher {
  target: WatchTarget;
  cursor: number;
  subscriber: Subscriber<WatchEvent>;
  /** Events that arrived while the watcher's snapshot was being read. */
  pending?: EventRow[];
}

export class EtcdWatchHub {
  private readonly byKind = new Map<string, Set<HubWatcher>>();
  private count = 0;
  private session?: Promise<EtcdWatcher>;

  constructor(
    private readonly conn: EtcdConnection,
    private readonly keys: EtcdKeys,
    private readonly decode: (row: EventRow) => DecodedEvent,
  ) {}

  /** Registers a watcher (buffering until `release`) and makes sure the log is being watched. */
  async add(watcher: HubWatcher): Promise<void> {
    watcher.pending = [];
    const key = kindKey(watcher.target.namespace, watcher.target.type);
    let set = this.byKind.get(key);
    if (!set) this.byKind.set(key, (set = new Set()));
    set.add(watcher);
    this.count++;
    // A start that failed (etcd unreachable) is forgotten, so the next watcher tries again.
    this.session ??= this.start().catch((err: unknown) => {
      this.session = undefined;
      throw err;
    });
    try {
      await this.session;
    } catch (err) {
      this.remove(watcher);
      throw err;
    }
  }

  /** The watcher's snapshot is out: deliver what it buffered past its cursor, then live events. */
  release(watcher: HubWatcher): void {
    const pending = watcher.pending ?? [];
    watcher.pending = undefined;
    for (const row of pending) this.deliverTo(watcher, row, undefined);
  }

  remove(watcher: HubWatcher): void {
    const key = kindKey(watcher.target.namespace, watcher.target.type);
    const set = this.byKind.get(key);
    if (!set?.delete(watcher)) return;
    if (set.size === 0) this.byKind.delete(key);
    if (--this.count === 0) this.stop();
  }

  completeAll(): void {
    for (const set of [...this.byKind.values()]) for (const w of [...set]) w.subscriber.complete();
    this.byKind.clear();
    this.count = 0;
    this.stop();
  }

  private async start(): Promise<EtcdWatcher> {
    // Every snapshot read after this point is at or after `from`, so the log watch covers what follows each of them.
    const { revision } = await this.conn.read([{ key: this.keys.revision }]);
    const from = (BigInt(revision) + 1n).toString();
    const watcher = this.conn
      .watch()
      .inRange({ start: Buffer.from(this.keys.logPrefix), end: prefixEnd(this.keys.logPrefix) })
      .startRevision(from)
      .only('put')
      .watcher();
    watcher.on('put', (kv) => this.onLog(kv.value));
    watcher.on('error', (err) => this.failAll(this.conn.unavailable(err)));
    return watcher;
  }

  private stop(): void {
    const session = this.session;
    this.session = undefined;
    void session?.then((w) => w.cancel()).catch(() => undefined);
  }

  private onLog(value: Buffer): void {
    let row: EventRow;
    try {
      row = decodeEvent(value);
    } catch (err) {
      return this.failAll(new UnavailableError(`a change-log entry in etcd is unreadable (${String(err)})`));
    }
    const set = this.byKind.get(kindKey(row.namespace, row.type));
    if (!set) return;
    const shared: { decoded?: DecodedEvent } = {};
    for (const w of [...set]) {
      if (w.pending) w.pending.push(row);
      else this.deliverTo(w, row, shared);
    }
  }

  private deliverTo(w: HubWatcher, row: EventRow, shared: { decoded?: DecodedEvent } | undefined): void {
    if (row.revision <= w.cursor) return;
    w.cursor = row.revision;
    let decoded: DecodedEvent;
    try {
      decoded = shared?.decoded ?? this.decode(row);
    } catch (err) {
      this.remove(w);
      w.subscriber.error(err);
      return;
    }
    if (shared) shared.decoded = decoded;
    const event = project(w.target, decoded);
    if (event) w.subscriber.next(event);
  }

  /** The log watch broke (e.g. its resume revision was compacted while disconnected): watchers resume from their bookmarks. */
  private failAll(err: Error): void {
    const all = [...this.byKind.values()].flatMap((s) => [...s]);
    this.byKind.clear();
    this.count = 0;
    this.stop();
    for (const w of all) w.subscriber.error(err);
  }
}
