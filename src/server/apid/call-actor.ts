// Who made an API call, as the audit trail names them: the client certificate's subject, and for a call forwarded by
// another node (an impersonator certificate) the roles it was made with.
import { IMPERSONATOR_ROLE } from './authorization.js';
import type { CallContext } from './router.js';

export function callActor(ctx: Pick<CallContext, 'identity' | 'roles'>): string {
  const { identity, roles } = ctx;
  return identity.roles.includes(IMPERSONATOR_ROLE) ? `${identity.subject} for roles ${roles.join('+') || 'none'}` : identity.subject;
}

export function callSource(ctx: Pick<CallContext, 'req'>): string | undefined {
  return ctx.req.socket.remoteAddress;
}
