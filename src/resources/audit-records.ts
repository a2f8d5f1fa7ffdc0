// AuditRecords (audit/<seq>): the node's tamper-evident trail of CA operations and refusals. Each record carries its
// own sequence number and the SHA-256 of the previous record's canonical encoding, so an edited, removed or reordered
// record breaks the chain (src/controllers/audit). Not sensitive: a record never holds a secret, only names, serials,
// fingerprints and field paths. AuditKeys (secrets/audit) holds the Ed25519 key that signs the chain head, sealed.
import { z } from 'zod';
import { defineResource } from '../runtime/resource.js';
import type { Resource } from '../runtime/resource.js';
import { ValidationError } from '../runtime/errors.js';
import { specValidator } from './spec-schema.js';

/** Values a record's details may hold: flat, so a SIEM reads them as fields. */
export type AuditDetailValue = string | number | boolean | string[];
export type AuditDetails = Record<string, AuditDetailValue>;

export interface AuditRecordSpec {
  seq: number;
  /** Hex SHA-256 of the previous record's canonical encoding; GENESIS for the first record of a trail. */
  prev: string;
  time: string;
  /** `CN=...,O=os:admin` for an API caller, `controller:<name>`, `trustd`, `local` for a --state command. */
  actor: string;
  /** The caller's address, when the operation came over the network. */
  source?: string;
  action: string;
  details: AuditDetails;
}

const isDetailValue = (v: unknown): v is AuditDetailValue =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
const HASH = /^[0-9a-f]{64}$/;
const RECORD_FIELDS = new Set(['seq', 'prev', 'time', 'actor', 'source', 'action', 'details']);

/**
 * Checked by hand rather than with a zod schema: every append validates a record, and zod's object, record and union
 * walk cost about 90 µs a record, more than the rest of the append together.
 */
function validateRecord(spec: unknown): AuditRecordSpec {
  const bad = (field: string, problem: string) => new ValidationError(`AuditRecords spec.${field}`, problem);
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new ValidationError('AuditRecords spec', 'expected an object');
  const r = spec as Record<string, unknown>;
  for (const key of Object.keys(r)) if (!RECORD_FIELDS.has(key)) throw bad(key, 'unknown field');
  const { seq, prev, time, actor, source, action, details } = r;
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1) throw bad('seq', 'expected an integer >= 1');
  if (typeof prev !== 'string' || !HASH.test(prev)) throw bad('prev', 'expected a hex SHA-256');
  const text = (field: string, v: unknown): string => {
    if (typeof v !== 'string' || v === '') throw bad(field, 'expected a non-empty string');
    return v;
  };
  if (source !== undefined && typeof source !== 'string') throw bad('source', 'expected a string');
  if (details === null || typeof details !== 'object' || Array.isArray(details)) throw bad('details', 'expected an object');
  const checked: AuditDetails = {};
  for (const [k, v] of Object.entries(details)) {
    if (!isDetailValue(v)) throw bad(`details.${k}`, 'expected a string, number, boolean or list of strings');
    checked[k] = v;
  }
  return { seq, prev, time: text('time', time), actor: text('actor', actor), ...(source !== undefined ? { source } : {}), action: text('action', action), details: checked };
}

export const AUDIT_NAMESPACE = 'audit';
export const GENESIS = '0'.repeat(64);

/** Record ids sort as their sequence numbers do, so a listing is the chain in order. */
export function auditRecordId(seq: number): string {
  return String(seq).padStart(12, '0');
}

export const AuditRecords = defineResource<AuditRecordSpec>({
  type: 'AuditRecords',
  aliases: ['auditrecord', 'auditrecords', 'audit'],
  namespace: AUDIT_NAMESPACE,
  sensitive: false,
  printColumns: [
    { name: 'TIME', value: (r) => r.spec.time },
    { name: 'ACTOR', value: (r) => r.spec.actor },
    { name: 'ACTION', value: (r) => r.spec.action },
    { name: 'DETAILS', value: (r) => formatDetails(r.spec.details) },
  ],
  validate: validateRecord,
});

export function formatDetails(details: AuditDetails): string {
  return Object.entries(details)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
    .join(' ');
}

const keySchema = z.object({ publicKey: z.string().min(1), privateKey: z.string().min(1), keyId: z.string().min(1) }).strict();
export type AuditKeySpec = z.infer<typeof keySchema>;
export const AUDIT_KEY_ID = 'audit';

export const AuditKeys = defineResource<AuditKeySpec>({
  type: 'AuditKeys',
  aliases: ['auditkey', 'auditkeys'],
  namespace: 'secrets',
  sensitive: true,
  printColumns: [{ name: 'KEY ID', value: (r: Resource<AuditKeySpec>) => r.spec.keyId }],
  validate: specValidator('AuditKeys', keySchema),
});

const headSchema = z.object({ seq: z.number().int().min(0), hash: z.string().regex(/^[0-9a-f]{64}$/), first: z.number().int().min(1) }).strict();
/** The newest record's sequence number and hash, and the oldest kept: written in the same transaction as each record. */
export type AuditHeadSpec = z.infer<typeof headSchema>;
export const AUDIT_HEAD_ID = 'head';

export const AuditHeads = defineResource<AuditHeadSpec>({
  type: 'AuditHeads',
  aliases: ['audithead', 'auditheads'],
  namespace: AUDIT_NAMESPACE,
  sensitive: false,
  printColumns: [
    { name: 'SEQ', value: (r) => String(r.spec.seq) },
    { name: 'FIRST', value: (r) => String(r.spec.first) },
    { name: 'HASH', value: (r) => r.spec.hash },
  ],
  validate: specValidator('AuditHeads', headSchema),
});
