// How audit records print: a table for people, or JSON lines (one self-contained object per record) for a SIEM.
import type { AuditRecordSpec } from '../resources/audit-records.js';
import { formatDetails } from '../resources/audit-records.js';
import type { AuditVerdict } from '../controllers/audit/index.js';
import type { AuditFormat } from './audit.js';
import { formatTable } from './resource-output.js';

const HEADER = ['SEQ', 'TIME', 'ACTOR', 'SOURCE', 'ACTION', 'DETAILS'];

/** `node` labels each record when several nodes are asked. */
export function formatRecords(records: readonly AuditRecordSpec[], format: AuditFormat, nodes?: readonly string[]): string {
  if (format === 'json') return records.map((r, i) => jsonLine(r, nodes?.[i])).join('');
  const rows = records.map((r, i) => [...(nodes ? [nodes[i]] : []), ...row(r)]);
  return formatTable([[...(nodes ? ['NODE'] : []), ...HEADER], ...rows]);
}

/** One record as `-f` prints it, once the table's header is out (columns are not aligned across records then). */
export function formatFollowed(record: AuditRecordSpec, format: AuditFormat, node?: string): string {
  return format === 'json' ? jsonLine(record, node) : `${[...(node ? [node] : []), ...row(record)].join('  ')}\n`;
}

function row(r: AuditRecordSpec): string[] {
  return [String(r.seq), r.time, r.actor, r.source ?? '-', r.action, formatDetails(r.details)];
}

function jsonLine(r: AuditRecordSpec, node: string | undefined): string {
  return `${JSON.stringify({ ...(node ? { node } : {}), seq: r.seq, time: r.time, actor: r.actor, ...(r.source ? { source: r.source } : {}), action: r.action, details: r.details, prev: r.prev })}\n`;
}

/** The verdict as one line; `where` names the node or store. */
export function formatVerdict(v: AuditVerdict, where: string): string {
  if (v.problem) return `${where}: audit trail broken at record ${v.problem.seq} (${v.problem.kind}): ${v.problem.message}\n`;
  if (v.records === 0) return `${where}: audit trail empty: nothing recorded yet\n`;
  const signed = v.signedThrough ? `head signed through record ${v.signedThrough}` : 'no head signature yet';
  return `${where}: audit trail intact: records ${v.first}..${v.last} (${v.records}), ${signed}${v.unsigned > 0 ? `; ${v.unsigned} newer record(s) not signed yet` : ''}\n`;
}
