// How `trustctl get` prints resources: a kubectl-style table (NAMESPACE TYPE ID VERSION + the type's print columns),
// YAML documents (`metadata` + `spec`, separated by `---`) or JSON; and, for `-w`, the same shapes per change with
// talosctl's leading `*` column (+ created, - destroyed, blank updated).
import { stringify } from 'yaml';
import type { Resource, ResourceDefinition } from '../runtime/resource.js';
import type { WatchEvent } from '../runtime/state.js';

import type { OutputFormat } from './output-format.js';

export { OUTPUT_FORMATS } from './output-format.js';
export type { OutputFormat } from './output-format.js';

const GAP = '   ';
const BASE_COLUMNS = ['NAMESPACE', 'TYPE', 'ID', 'VERSION'];

export interface ResourceDocument {
  /** The node it was read from, for reads over the API (talosctl's first field). */
  node?: string;
  metadata: Record<string, unknown>;
  spec: unknown;
}

/** Metadata in talosctl's order; labels, annotations and finalizers only when present. */
export function resourceDocument(r: Resource, node?: string): ResourceDocument {
  const m = r.metadata;
  const metadata: Record<string, unknown> = {
    namespace: m.namespace,
    type: m.type,
    id: m.id,
    version: m.version,
    owner: m.owner,
    phase: m.phase,
    created: m.created,
    updated: m.updated,
  };
  if (Object.keys(m.labels).length > 0) metadata.labels = m.labels;
  if (Object.keys(m.annotations).length > 0) metadata.annotations = m.annotations;
  if (m.finalizers.length > 0) metadata.finalizers = m.finalizers;
  return node === undefined ? { metadata, spec: r.spec } : { node, metadata, spec: r.spec };
}

/** With `withNode` (reads over the API), a NODE column comes first. */
export function tableHeader(def: ResourceDefinition, withNode = false): string[] {
  return [...(withNode ? ['NODE'] : []), ...BASE_COLUMNS, ...def.printColumns.map((c) => c.name)];
}

export function tableRow(def: ResourceDefinition, r: Resource, node?: string): string[] {
  const m = r.metadata;
  return [...(node === undefined ? [] : [node]), m.namespace, m.type, m.id, String(m.version), ...def.printColumns.map((c) => cell(() => c.value(r)))];
}

/** A print column that throws (a spec from an older version, say) shows `?` rather than failing the whole listing. */
function cell(value: () => string): string {
  try {
    return value();
  } catch {
    return '?';
  }
}

export function columnWidths(rows: readonly (readonly string[])[]): number[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return widths;
}

export function padRow(row: readonly string[], widths: readonly number[]): string {
  return row
    .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
    .join(GAP)
    .trimEnd();
}

export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = columnWidths(rows);
  return rows.map((r) => `${padRow(r, widths)}\n`).join('');
}

export function yamlDocument(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}

/** Everything `get` prints for a listing, in one format; `nodes` (parallel to `resources`) adds the NODE of each. */
export function formatResources(def: ResourceDefinition, resources: readonly Resource[], format: OutputFormat, single: boolean, nodes?: readonly string[]): string {
  switch (format) {
    case 'table':
      return formatTable([tableHeader(def, nodes !== undefined), ...resources.map((r, i) => tableRow(def, r, nodes?.[i]))]);
    case 'yaml':
      return resources.map((r, i) => yamlDocument(resourceDocument(r, nodes?.[i]))).join('---\n');
    case 'json': {
      // kubectl-like: one object for a single named resource, an array for a listing (empty listing: []).
      const docs = resources.map((r, i) => resourceDocument(r, nodes?.[i]));
      return `${JSON.stringify(single ? docs[0] : docs, null, 2)}\n`;
    }
  }
}

const MARK: Record<string, string> = { created: '+', destroyed: '-', updated: ' ' };

/**
 * Prints watch events as they come. A table waits for the bootstrap listing to size its columns, then keeps those
 * widths (later, longer values just push the row wider); YAML and JSON print each event at once.
 */
export class WatchPrinter {
  private widths?: number[];
  private pending: string[][] = [];

  constructor(
    private readonly def: ResourceDefinition,
    private readonly format: OutputFormat,
    private readonly write: (text: string) => void,
    /** Reads over the API: every row and document names its node. */
    private readonly withNode = false,
  ) {}

  event(e: Pick<WatchEvent, 'type' | 'resource'>, node?: string): void {
    if (e.type === 'bootstrapped') return this.flush();
    if (!e.resource || !(e.type in MARK)) return;
    if (this.format === 'table') {
      const row = this.withNode ? [node ?? '', MARK[e.type], ...tableRow(this.def, e.resource)] : [MARK[e.type], ...tableRow(this.def, e.resource)];
      if (this.widths) this.write(`${padRow(row, this.widths)}\n`);
      else this.pending.push(row);
      return;
    }
    const doc = { event: e.type, ...resourceDocument(e.resource, this.withNode ? (node ?? '') : undefined) };
    this.write(this.format === 'json' ? `${JSON.stringify(doc)}\n` : `---\n${yamlDocument(doc)}`);
  }

  /** Prints the header and the rows held back while sizing the columns. */
  flush(): void {
    if (this.format !== 'table' || this.widths) return;
    const rows = [this.withNode ? ['NODE', '*', ...tableHeader(this.def)] : ['*', ...tableHeader(this.def)], ...this.pending];
    this.widths = columnWidths(rows);
    this.pending = [];
    this.write(rows.map((r) => `${padRow(r, this.widths!)}\n`).join(''));
  }
}
