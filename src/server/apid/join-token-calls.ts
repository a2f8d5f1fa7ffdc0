// The join token calls (os:admin): create answers the token once; list answers the resources, which hold only hashes;
// revoke removes one; the token policy turns the static machine.token off or on for every control plane on the store.
// Each change is recorded in the audit trail by its caller.
import type { AuditSink } from '../../controllers/audit/index.js';
import type { Clock } from '../../runtime/clock.js';
import type { State } from '../../runtime/state.js';
import { STATIC_TOKEN_MODES } from '../../resources/token-policy.js';
import type { StaticTokenMode } from '../../resources/token-policy.js';
import {
  JoinTokenNotFound,
  JoinTokenRequestError,
  checkJoinTokenRequest,
  createJoinToken,
  listJoinTokens,
  revokeJoinToken,
  setStaticTokenMode,
  staticTokenEvent,
  tokenCreatedEvent,
  tokenRevokedEvent,
} from '../join-tokens/index.js';
import type { CheckedJoinTokenRequest, JoinTokenAuditEvent } from '../join-tokens/index.js';
import { ApiError } from './api-error.js';
import { callActor, callSource } from './call-actor.js';
import type { CallContext } from './router.js';
import { readJsonBody } from './router.js';

export function joinTokenCalls(state: State, clock: Clock, audit: AuditSink) {
  // Not awaited: the recorder commits in groups and never rejects; the caller's answer need not wait for it.
  const recordBy = (ctx: CallContext, event: JoinTokenAuditEvent) => void audit.record({ actor: callActor(ctx), source: callSource(ctx), ...event });
  return {
    async create(ctx: CallContext): Promise<unknown> {
      const request = checked(await readJsonBody<Record<string, unknown>>(ctx.req));
      const created = await createJoinToken(state, request, ctx.identity.subject, clock.now().toJSDate());
      recordBy(ctx, tokenCreatedEvent(created));
      return created;
    },
    list: async (): Promise<unknown> => listJoinTokens(state),
    async revoke(ctx: CallContext): Promise<unknown> {
      try {
        const revoked = await revokeJoinToken(state, ctx.params.id);
        recordBy(ctx, tokenRevokedEvent(revoked));
        return { revoked };
      } catch (err) {
        if (err instanceof JoinTokenNotFound) throw new ApiError(404, err.message);
        throw err;
      }
    },
    async policy(ctx: CallContext): Promise<unknown> {
      const { staticToken, ...rest } = await readJsonBody<{ staticToken?: unknown }>(ctx.req);
      const extra = Object.keys(rest);
      if (extra.length > 0) throw new ApiError(400, `${JSON.stringify(extra[0])} is not a token policy field: expected staticToken`);
      if (!STATIC_TOKEN_MODES.includes(staticToken as StaticTokenMode)) throw new ApiError(400, `staticToken: expected ${STATIC_TOKEN_MODES.join(' or ')}, got ${JSON.stringify(staticToken) ?? 'nothing'}`);
      const policy = await setStaticTokenMode(state, staticToken as StaticTokenMode, ctx.identity.subject);
      recordBy(ctx, staticTokenEvent(policy.spec.staticToken));
      return policy;
    },
  };
}

/** The request with its defaults, or a 400 naming the field. */
function checked(body: Record<string, unknown>): CheckedJoinTokenRequest {
  try {
    return checkJoinTokenRequest(body);
  } catch (err) {
    if (err instanceof JoinTokenRequestError) throw new ApiError(400, err.message);
    throw err;
  }
}
