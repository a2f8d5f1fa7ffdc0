// The write rules' RowStore for etcd: the rows a write read at one revision plus its own changes so far. What the
// write leaves here (and the events it produced) become one etcd transaction; nothing is sent while the rules run.
import type { Pointer } from '../resource.js';
import type { RowStore } from '../store/row-store.js';
import type { ResourceRow } from '../store/rows.js';

export function rowKey(p: Pointer): string {
  return `${p.namespace}\u0000${p.type}\u0000${p.id}`;
}

export class RowOverlay implements RowStore {
  private rows = new Map<string, ResourceRow | undefined>();

  /** Starts a write attempt from the rows read at one revision (undefined: read and absent). */
  reset(rows: Map<string, ResourceRow | undefined>): void {
    this.rows = rows;
  }

  /** The rows as the write left them. */
  current(): ReadonlyMap<string, ResourceRow | undefined> {
    return this.rows;
  }

  row(p: Pointer): ResourceRow | undefined {
    const key = rowKey(p);
    // A write touches only the pointers it names, and those were read first; anything else is a bug here.
    if (!this.rows.has(key)) throw new Error(`internal: ${p.namespace}/${p.type}/${p.id} was not read before the write`);
    return this.rows.get(key);
  }

  insert(p: Pointer, row: ResourceRow): void {
    this.rows.set(rowKey(p), row);
  }

  replace(p: Pointer, row: ResourceRow): void {
    if (this.row(p)) this.rows.set(rowKey(p), row);
  }

  remove(p: Pointer): void {
    this.rows.set(rowKey(p), undefined);
  }

  /** The events reach etcd from the write's context, in the same transaction as the rows. */
  append(): void {}
}
