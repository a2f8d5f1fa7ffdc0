// GET /v1/audit/verify (os:admin, os:operator): the node checks its own audit chain with the key it holds sealed, and
// answers the verdict; the client prints it and exits 1 when the chain is broken.
import { verifyStoredTrail } from '../../controllers/audit/index.js';
import type { AuditVerdict } from '../../controllers/audit/index.js';
import type { State } from '../../runtime/state.js';
import { requirePermission } from './router.js';
import type { CallContext } from './router.js';

export function auditVerifyCall(state: State) {
  return async (ctx: CallContext): Promise<AuditVerdict> => {
    requirePermission(ctx, 'audit');
    return verifyStoredTrail(state);
  };
}
