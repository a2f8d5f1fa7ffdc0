// What the write rules need of a backend: the rows of the pointers a write names, and a place for what it writes.
// SQLite serves it from prepared statements inside its transaction; etcd from the rows it read at one revision,
// turned into one etcd transaction afterwards. Each implements only this; neither sees the other.
import type { Pointer } from '../resource.js';
import type { EventRow, ResourceRow } from './rows.js';

export interface RowStore {
  /** The row at `pointer` as this write sees it (its own changes included), or undefined. */
  row(pointer: Pointer): ResourceRow | undefined;
  insert(pointer: Pointer, row: ResourceRow): void;
  /** Replaces the row that is at `expectedVersion` (the rules checked it is). */
  replace(pointer: Pointer, row: ResourceRow, expectedVersion: number): void;
  remove(pointer: Pointer): void;
  /** Appends one change to the event history, at `event.revision`. */
  append(event: EventRow): void;
}
