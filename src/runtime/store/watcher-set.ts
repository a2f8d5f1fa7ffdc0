// The watchers of one store, grouped by kind, and the one rule for handing a committed change to a watcher: at most
// once (its cursor), decoded once for all watchers of the row, projected onto what the watcher asked for. Both
// backends' hubs deliver through this; they differ only in where committed changes come from.
import type { Subscriber } from 'rxjs';
import type { WatchEvent } from '../state.js';
import type { EventRow } from './rows.js';
import { kindKey, project } from './watch-projection.js';
import type { DecodedEvent, WatchTarget } from './watch-projection.js';

export interface CursorWatcher {
  target: WatchTarget;
  /** The last revision this watcher has seen or its initial snapshot covered. */
  cursor: number;
  subscriber: Subscriber<WatchEvent>;
}

/** One row's decoding, shared by every watcher it goes to (a failure too: each of them gets it). */
export interface SharedDecode {
  decoded?: DecodedEvent;
  failure?: unknown;
}

export class WatcherSet<W extends CursorWatcher> {
  private readonly byKind = new Map<string, Set<W>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Returns true when it is the first watcher (the backend starts following changes). */
  add(watcher: W): boolean {
    const key = kindKey(watcher.target.namespace, watcher.target.type);
    let set = this.byKind.get(key);
    if (!set) this.byKind.set(key, (set = new Set()));
    set.add(watcher);
    return this.count++ === 0;
  }

  /** Returns true when it was the last watcher (the backend stops following changes). */
  remove(watcher: W): boolean {
    const key = kindKey(watcher.target.namespace, watcher.target.type);
    const set = this.byKind.get(key);
    if (!set?.delete(watcher)) return false;
    if (set.size === 0) this.byKind.delete(key);
    return --this.count === 0;
  }

  /** The watchers of the row's kind, as a copy (delivery may remove some). */
  of(row: EventRow): W[] {
    const set = this.byKind.get(kindKey(row.namespace, row.type));
    return set ? [...set] : [];
  }

  /** Takes every watcher out, for completing or failing them all. */
  drain(): W[] {
    const all = [...this.byKind.values()].flatMap((s) => [...s]);
    this.byKind.clear();
    this.count = 0;
    return all;
  }
}

/**
 * Hands `row` to `watcher` unless its cursor is past it. Returns false when the row could not be decoded: the
 * watcher got the error and must be removed.
 */
export function deliverRow(watcher: CursorWatcher, row: EventRow, shared: SharedDecode, decode: (row: EventRow) => DecodedEvent): boolean {
  if (row.revision <= watcher.cursor) return true;
  watcher.cursor = row.revision;
  if (!shared.decoded && shared.failure === undefined) {
    try {
      shared.decoded = decode(row);
    } catch (err) {
      shared.failure = err;
    }
  }
  if (!shared.decoded) {
    watcher.subscriber.error(shared.failure);
    return false;
  }
  const event = project(watcher.target, shared.decoded);
  if (event) watcher.subscriber.next(event);
  return true;
}
