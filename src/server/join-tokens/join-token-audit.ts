// How join tokens read in the audit trail, the same over the API, with --state and at trustd: a token is named by its
// id (the part before the dot, which `token list` shows) and its fingerprint (what a certificate-issued record by
// trustd carries), never by the token itself.
import type { AuditEvent } from '../../controllers/audit/index.js';
import { tokenFingerprint } from '../../controllers/audit/index.js';
import type { AuditDetails } from '../../resources/audit-records.js';
import type { JoinTokenSpec } from '../../resources/join-token.js';
import type { StaticTokenMode } from '../../resources/token-policy.js';
import type { Resource } from '../../runtime/resource.js';
import type { JoinTokenCreated } from './join-token-admin.js';

export type JoinTokenAuditEvent = Omit<AuditEvent, 'actor' | 'source'>;

export function tokenCreatedEvent({ token, resource }: JoinTokenCreated): JoinTokenAuditEvent {
  const { spec } = resource;
  const details: AuditDetails = { joinToken: resource.metadata.id, token: tokenFingerprint(token), uses: spec.uses, expires: spec.expires };
  if (spec.nodeIPs.length > 0) details.nodeIPs = spec.nodeIPs;
  if (spec.hostname) details.hostname = spec.hostname;
  return { action: 'token-created', details };
}

/** One use spent by trustd: `used` is the token's resource after the use, `node` the CSR's subject. */
export function tokenUsedEvent(used: Resource<JoinTokenSpec>, token: string, node: string): JoinTokenAuditEvent {
  return { action: 'token-used', details: { joinToken: used.metadata.id, token: tokenFingerprint(token), node, usesLeft: used.spec.uses - used.spec.used } };
}

export function tokenRevokedEvent(id: string): JoinTokenAuditEvent {
  return { action: 'token-revoked', details: { joinToken: id } };
}

export function staticTokenEvent(mode: StaticTokenMode): JoinTokenAuditEvent {
  return { action: 'static-token-mode', details: { staticToken: mode } };
}
