// Rows of one kind, as read by any backend, turned into resources that match a label selector.
import { labelsMatch } from '../label-query.js';
import type { Metadata, Pointer, Resource } from '../resource.js';
import type { LabelTerm } from '../state.js';
import type { ListedRow } from './rows.js';
import type { SpecCodec } from './spec-codec.js';

export function listedResources<Spec>(codec: SpecCodec, kind: Pointer, rows: Iterable<ListedRow>, labels: LabelTerm[] | undefined): Resource<Spec>[] {
  const out: Resource<Spec>[] = [];
  for (const row of rows) {
    const metadata = JSON.parse(row.meta) as Metadata;
    if (!labelsMatch(metadata.labels, labels)) continue;
    out.push({ metadata, spec: codec.decode(row.spec, { ...kind, id: row.id }) as Spec });
  }
  return out;
}
