// Delivers committed events to watchers in revision order. Each watcher keeps a cursor (the last revision it has
// seen or that its initial snapshot covered), so an event is delivered at most once and, because every committed
// revision passes through the queue in order, none is skipped. Writes from other connections (another process on
// the same file) are picked up by polling PRAGMA data_version, which changes only when someone else commits.
import type { Subscriber } from 'rxjs';
import { InvalidBookmarkError } from '../errors.js';
import { labelsMatch } from '../label-query.js';
import type { Metadata, Resource } from '../resource.js';
import type { LabelTerm, WatchEvent } from '../state.js';
import type { EventRow } from './rows.js';

export interface WatchTarget {
  namespace: string;
  type: string;
  /** Set for a single-resource watch. */
  id?: string;
  labels?: LabelTerm[];
  idPrefix?: string;
}

export interface Watcher {
  target: WatchTarget;
  cursor: number;
  subscriber: Subscriber<WatchEvent>;
}

export interface DecodedEvent {
  row: EventRow;
  resource: Resource;
  old?: Resource;
  /** The metadata before an update, kept even when `old` is withheld (a sensitive type), so label selectors still work. */
  oldMetadata?: Metadata;
  /** The event as a watcher without a label selector sees it, built once. */
  plain?: WatchEvent;
}

export interface HubIO {
  decode(row: EventRow): DecodedEvent;
  /** Every retained event after `revision`, in order, read in one snapshot. */
  readAfter(revision: number): EventRow[];
  dataVersion(): number;
  pollIntervalMs: number;
}

export function kindKey(namespace: string, type: string): string {
  return `${namespace}\u0000${type}`;
}

/** What a watcher with this target sees of an event; a label selector turns entering and leaving into created/destroyed. */
export function project(target: WatchTarget, d: DecodedEvent): WatchEvent | undefined {
  const { row, resource, old, oldMetadata } = d;
  const bookmark = row.revision;
  if (target.id !== undefined) {
    if (row.id !== target.id) return undefined;
  } else if (target.idPrefix && !row.id.startsWith(target.idPrefix)) {
    return undefined;
  }
  // Watchers without a selector share one event object (events are read-only to watchers).
  if (!target.labels?.length) return (d.plain ??= row.kind === 'updated' && old ? { type: 'updated', resource, old, bookmark } : { type: row.kind, resource, bookmark });
  const matchesNow = labelsMatch(resource.metadata.labels, target.labels);
  if (row.kind !== 'updated') return matchesNow ? { type: row.kind, resource, bookmark } : undefined;
  const matchedBefore = oldMetadata !== undefined && labelsMatch(oldMetadata.labels, target.labels);
  if (matchesNow && matchedBefore) return old ? { type: 'updated', resource, old, bookmark } : { type: 'updated', resource, bookmark };
  if (matchesNow) return { type: 'created', resource, bookmark };
  if (matchedBefore) return { type: 'destroyed', resource, bookmark };
  return undefined;
}

export class WatchHub {
  private readonly byKind = new Map<string, Set<Watcher>>();
  private count = 0;
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
    return this.count > 0;
  }

  add(watcher: Watcher): void {
    const key = kindKey(watcher.target.namespace, watcher.target.type);
    let set = this.byKind.get(key);
    if (!set) this.byKind.set(key, (set = new Set()));
    set.add(watcher);
    if (this.count++ === 0) this.startPolling();
  }

  remove(watcher: Watcher): void {
    const key = kindKey(watcher.target.namespace, watcher.target.type);
    const set = this.byKind.get(key);
    if (!set?.delete(watcher)) return;
    if (set.size === 0) this.byKind.delete(key);
    if (--this.count === 0) this.stopPolling();
  }

  /** Events committed by this connection, in revision order. */
  publish(rows: EventRow[]): void {
    if (rows.length === 0) return;
    this.seen = rows[rows.length - 1].revision;
    if (this.count === 0) return;
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
    if (this.count > 0) this.publishForeign(this.io.readAfter(this.seen));
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
    for (const set of [...this.byKind.values()]) for (const w of [...set]) w.subscriber.complete();
    this.byKind.clear();
    this.count = 0;
    this.stopPolling();
  }

  private deliver(row: EventRow): void {
    const set = this.byKind.get(kindKey(row.namespace, row.type));
    if (!set) return;
    let decoded: DecodedEvent | undefined;
    let failure: unknown;
    for (const w of set) {
      if (row.revision <= w.cursor) continue;
      w.cursor = row.revision;
      if (!decoded && failure === undefined) {
        try {
          decoded = this.io.decode(row);
        } catch (err) {
          failure = err;
        }
      }
      if (!decoded) {
        this.remove(w);
        w.subscriber.error(failure);
        continue;
      }
      const event = project(w.target, decoded);
      if (event) w.subscriber.next(event);
    }
  }

  /** Another writer's events were pruned before this process read them: a watcher behind them has a gap. */
  private failLagging(firstAvailable: number): void {
    for (const set of [...this.byKind.values()]) {
      for (const w of [...set]) {
        if (w.cursor >= firstAvailable - 1) continue;
        this.remove(w);
        w.subscriber.error(new InvalidBookmarkError(w.cursor, firstAvailable));
      }
    }
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
      for (const set of [...this.byKind.values()]) for (const w of [...set]) w.subscriber.error(err);
      this.byKind.clear();
      this.count = 0;
      this.stopPolling();
    }
  };
}
