// The audit trail: a hash chain of records in the node's store, its recorder, reader and verifier.
export { AUDIT_ACTIONS, LOCAL_ACTOR, controllerActor, noAudit } from './audit-event.js';
export type { AuditAction, AuditEvent, AuditSink } from './audit-event.js';
export { AUDIT_OWNER, AuditRecorder } from './audit-recorder.js';
export type { AuditRecorderOptions, AuditRetention } from './audit-recorder.js';
export { AUDIT_KIND, readAuditTrail, verifyStoredTrail } from './audit-trail.js';
export { verifyAuditChain } from './audit-verify.js';
export type { AuditVerdict } from './audit-verify.js';
export { certificateDetails } from './certificate-details.js';
export { configChangeDetails, configChangeDetailsOf, configDocuments } from './config-change-details.js';
export { tokenFingerprint } from './token-fingerprint.js';
