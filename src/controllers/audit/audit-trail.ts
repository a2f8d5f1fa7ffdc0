// Reading a node's trail back: the records in order (optionally from a time on) and the verdict on the whole chain.
import { AuditRecords } from '../../resources/audit-records.js';
import type { AuditHeadSpec, AuditRecordSpec } from '../../resources/audit-records.js';
import type { Kind, Resource } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';
import { auditVerifyKey } from './audit-key.js';
import { AUDIT_HEAD_POINTER } from './audit-recorder.js';
import { verifyAuditChain } from './audit-verify.js';
import type { AuditVerdict } from './audit-verify.js';

export const AUDIT_KIND: Kind = { namespace: AuditRecords.namespace, type: AuditRecords.type };

/** Records in chain order; with `since`, only those at or after that time. */
export async function readAuditTrail(state: State, since?: Date): Promise<Resource<AuditRecordSpec>[]> {
  const all = await state.list<AuditRecordSpec>(AUDIT_KIND);
  return since ? all.filter((r) => Date.parse(r.spec.time) >= since.getTime()) : all;
}

/** Verifies the stored chain against the stored head and the store's sealed audit key. */
export async function verifyStoredTrail(state: State): Promise<AuditVerdict> {
  const records = await state.list<AuditRecordSpec>(AUDIT_KIND);
  const head = (await state.find<AuditHeadSpec>(AUDIT_HEAD_POINTER))?.spec;
  return verifyAuditChain(records.map((r) => r.spec), head, await auditVerifyKey(state));
}
