// Delivers committed events to watchers in revision order. Each watcher keeps a cursor (the last revision it has
// seen or that its initial snapshot covered), so an event is delivered at most once and, because every committed
// revision passes through the queue in order, none is skipped. Writes from other connections (another process on
// the same file) are picked up by polling PRAGMA data_version, which changes only when someone else commits.
import { InvalidBookmarkError } from '../errors.js';
import type { EventRow } from '../store/rows.js';
import type { DecodedEvent } from '../store/watch-projection.js';
import { WatcherSet, deliverRow } from '../store/watcher-set.js';
import type { CursorWatcher } from '../store/watcher-set.js';

export type Watcher = CursorWatcher;

export interface HubIO {
  decode(row: EventRow): DecodedEvent;
  /** Every retained event after `revision`, in order, read in one snapshot. */
  readAfter(revision: number): EventRow[];
  dataVersion(): number;
  pollIntervalMs: number;
}

export class WatchHub {
  private readonly watchers = new WatcherSet<Watcher>();
  private queue: EventRow[] = [];
  private head = 0;
  private flushScheduled = false;
  private flushing = false;
  private poller: NodeJS.Timeout | undefined;
  private lastDataVersion = -1;

  /** The highest revision handed to the queue (or known to need no delivery). */
  seen: number;

  constructor(
    seen: number,
    private readonly io: HubIO,
  ) {
    this.seen = seen;
  }

  get watching(): boolean {
    return this.watchers.size > 0;
  }

  add(watcher: Watcher): void {
    if (this.watchers.add(watcher)) this.startPolling();
  }

  remove(watcher: Watcher): void {
    if (this.watchers.remove(watcher)) this.stopPolling();
  }

  /** Events committed by this connection, in revision order. */
  publish(rows: EventRow[]): void {
    if (rows.length === 0) return;
    this.seen = rows[rows.length - 1].revision;
    if (this.watchers.size === 0) return;
    for (const row of rows) this.queue.push(row);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flush);
    }
  }

  /** Events committed by other connections since `seen`. */
  publishForeign(rows: EventRow[]): void {
    if (rows.length > 0 && rows[0].revision > this.seen + 1) this.failLagging(rows[0].revision);
    this.publish(rows);
  }

  /** Reads what other connections committed, when anyone is watching. */
  catchUp(): void {
    if (this.watchers.size > 0) this.publishForeign(this.io.readAfter(this.seen));
  }

  /** Delivers what is queued now (close() calls it so committed events are not lost). */
  readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.flushing) return;
    this.flushing = true;
    try {
      // Subscribers may write from their callbacks; those events join this queue and are delivered in this loop, in order.
      while (this.head < this.queue.length) this.deliver(this.queue[this.head++]);
      this.queue = [];
      this.head = 0;
    } finally {
      this.flushing = false;
    }
  };

  /** Delivers what is pending, then completes every watcher. */
  completeAll(): void {
    this.flush();
    for (const w of this.watchers.drain()) w.subscriber.complete();
    this.stopPolling();
  }

  private deliver(row: EventRow): void {
    const shared = {};
    for (const w of this.watchers.of(row)) if (!deliverRow(w, row, shared, this.io.decode)) this.remove(w);
  }

  /** Another writer's events were pruned before this process read them: a watcher behind them has a gap. */
  private failLagging(firstAvailable: number): void {
    for (const w of this.watchers.drain()) {
      if (w.cursor >= firstAvailable - 1) this.watchers.add(w);
      else w.subscriber.error(new InvalidBookmarkError(w.cursor, firstAvailable));
    }
    if (this.watchers.size === 0) this.stopPolling();
  }

  private startPolling(): void {
    this.lastDataVersion = -1;
    this.poller = setInterval(this.poll, this.io.pollIntervalMs);
    this.poller.unref();
  }

  private stopPolling(): void {
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
  }

  private readonly poll = (): void => {
    try {
      const version = this.io.dataVersion();
      if (version === this.lastDataVersion) return;
      this.lastDataVersion = version;
      this.catchUp();
    } catch (err) {
      for (const w of this.watchers.drain()) w.subscriber.error(err);
      this.stopPolling();
    }
  };
}
