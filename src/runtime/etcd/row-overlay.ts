// Lets the SQLite backend's ResourceWriter (the one place that knows COSI's write rules and their error messages)
// run against a snapshot read from etcd: it sees the rows as they were read plus its own changes so far, and the
// events it appends are what this backend turns into one etcd transaction. Both backends thus refuse and accept
// exactly the same writes.
import type { Pointer } from '../resource.js';
import type { ResourceRow, StoredSpec } from '../sqlite/rows.js';
import type { Statements } from '../sqlite/statements.js';

export function rowKey(p: Pointer): string {
  return `${p.namespace}\u0000${p.type}\u0000${p.id}`;
}

export class RowOverlay {
  private rows = new Map<string, ResourceRow | undefined>();

  /** Starts a write attempt from the rows read at one revision (undefined: read and absent). */
  reset(rows: Map<string, ResourceRow | undefined>): void {
    this.rows = rows;
  }

  /** The rows as the write left them. */
  current(): ReadonlyMap<string, ResourceRow | undefined> {
    return this.rows;
  }

  private get(namespace: string, type: string, id: string): ResourceRow | undefined {
    const key = rowKey({ namespace, type, id });
    // A write touches only the pointers it names, and those were read first; anything else is a bug here.
    if (!this.rows.has(key)) throw new Error(`internal: ${namespace}/${type}/${id} was not read before the write`);
    return this.rows.get(key);
  }

  /** The subset of prepared statements ResourceWriter uses, served from the overlay. */
  statements(): Statements {
    const s = {
      getRow: { get: (ns: string, type: string, id: string) => this.get(ns, type, id) },
      insertRow: {
        run: (ns: string, type: string, id: string, version: number, owner: string, phase: ResourceRow['phase'], meta: string, spec: StoredSpec) => {
          this.rows.set(rowKey({ namespace: ns, type, id }), { version, owner, phase, meta, spec });
        },
      },
      updateRow: {
        run: (version: number, phase: ResourceRow['phase'], meta: string, spec: StoredSpec, ns: string, type: string, id: string) => {
          const old = this.get(ns, type, id);
          if (old) this.rows.set(rowKey({ namespace: ns, type, id }), { version, owner: old.owner, phase, meta, spec });
        },
      },
      deleteRow: { run: (ns: string, type: string, id: string) => void this.rows.set(rowKey({ namespace: ns, type, id }), undefined) },
      insertEvent: { run: () => undefined },
    };
    return s as unknown as Statements;
  }
}
