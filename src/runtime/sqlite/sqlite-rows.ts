// The write rules' RowStore over SQLite's prepared statements, used inside the immediate transaction of a write.
import type { Pointer } from '../resource.js';
import type { RowStore } from '../store/row-store.js';
import type { EventRow, ResourceRow } from '../store/rows.js';
import type { Statements } from './statements.js';

export function sqliteRows(s: Statements): RowStore {
  return {
    row: (p: Pointer) => s.getRow.get(p.namespace, p.type, p.id),
    insert: (p: Pointer, r: ResourceRow) => void s.insertRow.run(p.namespace, p.type, p.id, r.version, r.owner, r.phase, r.meta, r.spec),
    replace: (p: Pointer, r: ResourceRow, expectedVersion: number) =>
      void s.updateRow.run(r.version, r.phase, r.meta, r.spec, p.namespace, p.type, p.id, expectedVersion),
    remove: (p: Pointer) => void s.deleteRow.run(p.namespace, p.type, p.id),
    append: (e: EventRow) => void s.insertEvent.run(e.revision, e.kind, e.namespace, e.type, e.id, e.meta, e.spec, e.old_meta, e.old_spec),
  };
}
