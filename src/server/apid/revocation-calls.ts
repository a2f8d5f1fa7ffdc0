// POST /v1/revocations and POST /v1/revocations/lift (os:admin): `trustctl revoke` and `trustctl revoke --undo` over the
// API. The caller's certificate subject is recorded as who revoked, and each change goes to the audit trail; bad input
// is a 400 naming the field, with nothing written.
import type { AuditSink } from '../../controllers/audit/index.js';
import type { Clock } from '../../runtime/clock.js';
import type { State } from '../../runtime/state.js';
import type { RevocationSpec } from '../../resources/revocations.js';
import { RevocationInputError, liftRevocation, revocationAuditEvent, revokeCertificate } from '../revocation/index.js';
import type { RevocationListener, RevokeRequest, RevokeResult, RevocationWriter } from '../revocation/index.js';
import { ApiError } from './api-error.js';
import { callActor, callSource } from './call-actor.js';
import { readJsonBody, requirePermission } from './router.js';
import type { CallContext } from './router.js';

const FIELDS = ['cert', 'serial', 'fingerprint', 'ca', 'reason', 'reasonCode'] as const;

export function revocationCalls(state: State, clock: Clock, audit: AuditSink, onRevocation: RevocationListener | undefined) {
  const writer = (ctx: CallContext): RevocationWriter => ({
    state,
    clock,
    by: ctx.identity.subject,
    onChange(event) {
      // Not awaited: the recorder commits in groups and never rejects; the caller's answer need not wait for it.
      void audit.record({ actor: callActor(ctx), source: callSource(ctx), ...revocationAuditEvent(event) });
      onRevocation?.(event);
    },
  });
  return {
    async revoke(ctx: CallContext): Promise<RevokeResult> {
      requirePermission(ctx, 'admin');
      const request = await requestOf(ctx);
      return refusingBadInput(() => revokeCertificate(request, writer(ctx)));
    },
    async lift(ctx: CallContext): Promise<{ lifted: RevocationSpec[] }> {
      requirePermission(ctx, 'admin');
      const request = await requestOf(ctx);
      return { lifted: await refusingBadInput(() => liftRevocation(request, writer(ctx))) };
    },
  };
}

async function requestOf(ctx: CallContext): Promise<RevokeRequest> {
  const body = await readJsonBody<Record<string, unknown>>(ctx.req);
  const request: RevokeRequest = {};
  for (const [key, value] of Object.entries(body)) {
    if (!(FIELDS as readonly string[]).includes(key)) throw new ApiError(400, `${key}: not a field of a revocation (expected ${FIELDS.join(', ')})`);
    if (typeof value !== 'string') throw new ApiError(400, `${key}: expected a string`);
    request[key as (typeof FIELDS)[number]] = value;
  }
  return request;
}

async function refusingBadInput<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof RevocationInputError) throw new ApiError(400, err.message);
    throw err;
  }
}
