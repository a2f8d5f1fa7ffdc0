// The public face of revocation on the server side: recording, resolving and enforcing revocations.
export { RevokedSet, revokedClientMessage, revokedText } from './revoked-set.js';
export { revokeCertificate, liftRevocation, DEFAULT_REASON_CODE } from './record-revocation.js';
export type { RevokeRequest, RevokeResult, RevocationEvent, RevocationListener, RevocationWriter } from './record-revocation.js';
export { RevocationInputError, publicKeyDigest } from './revocation-target.js';
export type { RevocationSelector, RevocationTarget } from './revocation-target.js';
export { revocationAuditEvent } from './revocation-audit.js';
