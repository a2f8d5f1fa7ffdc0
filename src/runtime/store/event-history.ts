// What a resumed watch replays of the retained history. A sensitive resource's superseded versions are not replayed:
// its newest event in the range stands for it, so a watch from 0 shows the secrets as they are now, never an old key.
import type { EventRow } from './rows.js';
import type { SensitiveTypes } from './spec-codec.js';

/** `rows` in revision order; returns them without the sensitive events a later event of the same resource supersedes. */
export function replayable(rows: readonly EventRow[], sensitive: SensitiveTypes): EventRow[] {
  const later = new Set<string>();
  const kept: EventRow[] = [];
  for (let i = rows.length - 1; i >= 0; i--) {
    const row = rows[i];
    if (sensitive(row.type)) {
      const key = `${row.namespace}\u0000${row.type}\u0000${row.id}`;
      if (later.has(key)) continue;
      later.add(key);
    }
    kept.push(row);
  }
  return kept.reverse();
}
