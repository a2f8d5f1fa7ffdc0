// Checks a trail: walks the records in store order and names the first one that was edited, removed or reordered, or
// whose head signature does not hold. The walk starts where the newest `pruned` record says the kept trail starts,
// so retention does not read as tampering; it ends at the head, so records cut off the end are found too.
import type { KeyObject } from 'node:crypto';
import { GENESIS } from '../../resources/audit-records.js';
import type { AuditHeadSpec, AuditRecordSpec } from '../../resources/audit-records.js';
import { headSignatureValid } from './audit-key.js';
import { recordHash } from './canonical.js';

export type AuditProblemKind = 'edited' | 'removed' | 'reordered' | 'signature';

export interface AuditVerdict {
  ok: boolean;
  /** Records checked. */
  records: number;
  first?: number;
  last?: number;
  /** The newest record a valid head signature covers (0: none). */
  signedThrough: number;
  /** Records after the newest head signature: not covered by one yet. */
  unsigned: number;
  /** The first problem: which record, and what happened to it. */
  problem?: { seq: number; kind: AuditProblemKind; message: string };
}

export interface VerifyKey {
  keyId: string;
  publicKey: KeyObject;
}

/** `records` in store order (ids sort as sequence numbers); `head` and `key` as the store holds them. */
export function verifyAuditChain(records: readonly AuditRecordSpec[], head: AuditHeadSpec | undefined, key: VerifyKey | undefined): AuditVerdict {
  const present = new Set(records.map((r) => r.seq));
  const start = startOf(records);
  let expected = start.seq;
  let prevHash = start.hash;
  let signedThrough = 0;
  let signatureSeq = start.seq - 1;
  const hashes = new Map<number, string>();
  const fail = (seq: number, kind: AuditProblemKind, message: string): AuditVerdict => ({ ok: false, records: records.length, signedThrough, unsigned: 0, problem: { seq, kind, message } });
  for (const r of records) {
    if (r.seq !== expected) {
      if (present.has(expected)) return fail(expected, 'reordered', `record ${expected} is out of place: record ${r.seq} stands where it belongs (records were reordered)`);
      if (r.seq > expected) return fail(expected, 'removed', `record ${expected} was removed${r.seq > expected + 1 ? ` (records ${expected}..${r.seq - 1} are missing)` : ''}`);
      return fail(r.seq, 'reordered', `record ${r.seq} appears after record ${expected - 1}: records were reordered or re-inserted`);
    }
    if (r.prev !== prevHash) {
      if (r.seq === start.seq) return fail(r.seq, 'edited', `record ${r.seq} does not link to ${start.what}: it, or the records before it, were edited`);
      return fail(r.seq - 1, 'edited', `record ${r.seq - 1} was edited: its hash no longer matches the one record ${r.seq} carries`);
    }
    if (r.action === 'chain-signed') {
      const d = r.details;
      const valid = key !== undefined && d.keyId === key.keyId && d.through === r.seq - 1 && d.hash === prevHash && typeof d.signature === 'string' && headSignatureValid(key.publicKey, r.seq - 1, prevHash, d.signature);
      if (!valid) return fail(r.seq, 'signature', `record ${r.seq}: the head signature over record ${r.seq - 1} does not verify with the store's audit key${key ? ` ${key.keyId}` : ' (the store holds none)'}`);
      signedThrough = r.seq - 1;
      signatureSeq = r.seq;
    }
    prevHash = recordHash(r);
    hashes.set(r.seq, prevHash);
    expected++;
  }
  const last = expected - 1;
  // The head names the newest signed record: records cut off the end up to it are missing, and it must be unchanged.
  if (head && head.seq > last) return fail(last + 1, 'removed', `record ${last + 1} was removed (the trail's signed head is record ${head.seq})`);
  const atHead = head ? hashes.get(head.seq) : undefined;
  if (head && atHead !== undefined && atHead !== head.hash) return fail(head.seq, 'edited', `record ${head.seq} was edited: its hash no longer matches the trail's signed head`);
  return { ok: true, records: records.length, ...(records.length ? { first: start.seq, last } : {}), signedThrough, unsigned: last - signatureSeq };
}

/** Where the kept trail starts: after the range the newest `pruned` record dropped, else at record 1. */
function startOf(records: readonly AuditRecordSpec[]): { seq: number; hash: string; what: string } {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i];
    if (r.action !== 'pruned') continue;
    const through = r.details.through;
    const lastHash = r.details.lastHash;
    if (typeof through === 'number' && typeof lastHash === 'string') return { seq: through + 1, hash: lastHash, what: `the last pruned record (${through}), as record ${r.seq} says` };
  }
  return { seq: 1, hash: GENESIS, what: 'the start of the trail' };
}
