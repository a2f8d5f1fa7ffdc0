// What a caller hands the audit trail: who did what, from where. The recorder adds the sequence number, the link to
// the previous record and the time. Actions are a closed list so a SIEM can filter on them.
import type { AuditDetails } from '../../resources/audit-records.js';

export const AUDIT_ACTIONS = [
  'certificate-issued',
  'certificate-revoked',
  'revocation-lifted',
  'ca-rotation-phase',
  'machine-config-changed',
  'refused',
  'token-created',
  'token-used',
  'token-revoked',
  'static-token-mode',
  'chain-signed',
  'pruned',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEvent {
  /** `CN=...,O=os:admin` for an API caller, `controller:<name>`, `trustd`, `local` for a --state command. */
  actor: string;
  source?: string;
  action: AuditAction;
  /** Names, serials, fingerprints, field paths: never a key, token or secret value (the recorder refuses PEM keys). */
  details: AuditDetails;
}

/**
 * The one entry point other parts call: `audit.record({...})`. It never rejects (a failing store is reported through
 * the recorder's onError and must not fail the operation being recorded); await it to know the record is written.
 */
export interface AuditSink {
  record(event: AuditEvent): Promise<void>;
}

/** For code paths that run without a trail (tests of other parts, read-only tools). */
export const noAudit: AuditSink = { record: async () => undefined };

export const LOCAL_ACTOR = 'local';
export const controllerActor = (name: string): string => `controller:${name}`;
