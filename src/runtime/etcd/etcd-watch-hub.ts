// One etcd watch on the store's change log feeds every watcher of this client. A new watcher registers (buffering)
// before it reads its starting snapshot, and the etcd watch started before any snapshot was read, so whatever is
// committed after the snapshot reaches the buffer: nothing is lost, and the watcher's cursor (the logical revision
// its snapshot covered) drops what the snapshot already showed: nothing is repeated.
import type { Watcher as EtcdWatcher } from 'etcd3';
import { UnavailableError } from '../errors.js';
import type { EventRow } from '../store/rows.js';
import type { DecodedEvent } from '../store/watch-projection.js';
import { WatcherSet, deliverRow } from '../store/watcher-set.js';
import type { CursorWatcher } from '../store/watcher-set.js';
import type { EtcdConnection } from './etcd-connection.js';
import { prefixEnd } from './etcd-keys.js';
import type { EtcdKeys } from './etcd-keys.js';
import { decodeEvent } from './stored-value.js';

export interface HubWatcher extends CursorWatcher {
  /** Events that arrived while the watcher's snapshot was being read. */
  pending?: EventRow[];
}

export class EtcdWatchHub {
  private readonly watchers = new WatcherSet<HubWatcher>();
  private session?: Promise<EtcdWatcher>;

  constructor(
    private readonly conn: EtcdConnection,
    private readonly keys: EtcdKeys,
    private readonly decode: (row: EventRow) => DecodedEvent,
  ) {}

  /** Registers a watcher (buffering until `release`) and makes sure the log is being watched. */
  async add(watcher: HubWatcher): Promise<void> {
    watcher.pending = [];
    this.watchers.add(watcher);
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
    for (const row of pending) {
      if (deliverRow(watcher, row, {}, this.decode)) continue;
      this.remove(watcher);
      return;
    }
  }

  remove(watcher: HubWatcher): void {
    if (this.watchers.remove(watcher)) this.stop();
  }

  completeAll(): void {
    for (const w of this.watchers.drain()) w.subscriber.complete();
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
    const shared = {};
    for (const w of this.watchers.of(row)) {
      if (w.pending) w.pending.push(row);
      else if (!deliverRow(w, row, shared, this.decode)) this.remove(w);
    }
  }

  /** The log watch broke (e.g. its resume revision was compacted while disconnected): watchers resume from their bookmarks. */
  private failAll(err: Error): void {
    const all = this.watchers.drain();
    this.stop();
    for (const w of all) w.subscriber.error(err);
  }
}
