// The canonical encoding a record's hash is taken over: JSON with object keys sorted at every level and no spaces, so
// the same record hashes the same in every process and backend, whatever order its fields were written or read in.
import { createHash } from 'node:crypto';
import type { AuditRecordSpec } from '../../resources/audit-records.js';

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Hex SHA-256 of the record's canonical encoding: what the next record carries as `prev`. */
export function recordHash(spec: AuditRecordSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}
