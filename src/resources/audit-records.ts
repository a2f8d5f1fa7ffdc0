// AuditRecords (audit/<seq>): the node's tamper-evident trail of CA operations and refusals. Each record carries its
// own sequence number and the SHA-256 of the previous record's canonical encoding, so an edited, removed or reordered
// record breaks the chain (src/controllers/audit). Not sensitive: a record never holds a secret, only names, serials,
// fingerprints and field paths. AuditKeys (secrets/audit) holds the Ed25519 key that signs the chain head, sealed.
import { z } from 'zod';
import { defineResource } from '../runtime/resource.js';
import type { Resource } from '../runtime/resource.js';
import { specValidator } from './spec-schema.js';

/** Values a record's details may hold: flat, so a SIEM reads them as fields. */
const detailValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

const recordSchema = z
  .object({
    seq: z.number().int().min(1),
    /** Hex SHA-256 of the previous record's canonical encoding; GENESIS for the first record of a trail. */
    prev: z.string().regex(/^[0-9a-f]{64}$/),
    time: z.string().min(1),
    /** `CN=...,O=os:admin` for an API caller, `controller:<name>`, `trustd`, `local` for a --state command. */
    actor: z.string().min(1),
    /** The caller's address, when the operation came over the network. */
    source: z.string().optional(),
    action: z.string().min(1),
    details: z.record(detailValue),
  })
  .strict();
export type AuditRecordSpec = z.infer<typeof recordSchema>;
export type AuditDetails = AuditRecordSpec['details'];

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
  validate: specValidator('AuditRecords', recordSchema),
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
