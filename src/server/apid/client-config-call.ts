// POST /v1/talosconfig (os:admin): `config new` online. Issues a client certificate with the requested roles and
// lifetime from the node's OS CA; the caller writes the talosconfig.
import { X509Certificate } from 'node:crypto';
import { issueClientCertificate, parseRoles } from '../../config/index.js';
import { certificateDetails } from '../../controllers/audit/index.js';
import type { AuditSink } from '../../controllers/audit/index.js';
import { lifetimeProblem } from '../../pki/index.js';
import type { CaKeys } from '../../config/ca-keys.js';
import type { OSRootSecretsSpec } from '../../resources/root-secrets.js';
import type { Clock } from '../../runtime/clock.js';
import type { State } from '../../runtime/state.js';
import { jsonKind } from '../json-object.js';
import { TokenError } from '../../pki/pkcs11/token-error.js';
import { ApiError } from './api-error.js';
import { callActor, callSource } from './call-actor.js';
import type { ClientConfigRequest, ClientConfigResponse } from './api-paths.js';
import { readJsonBody, requirePermission } from './router.js';
import type { CallContext } from './router.js';
import { OS_ROOT } from './tls-material.js';

export function clientConfigCall(state: State, clock: Clock, caKeys: CaKeys, audit: AuditSink) {
  return async (ctx: CallContext): Promise<ClientConfigResponse> => {
    requirePermission(ctx, 'admin');
    const body = await readJsonBody<Partial<ClientConfigRequest>>(ctx.req);
    const given: unknown = body.roles;
    if (!Array.isArray(given)) throw new ApiError(400, 'roles: expected a list of roles, e.g. ["os:reader"]');
    const notText = given.findIndex((r) => typeof r !== 'string');
    if (notText >= 0) throw new ApiError(400, `roles[${notText}]: expected a role name such as "os:reader", got ${jsonKind(given[notText])}`);
    const roles = parseRoles(given as string[], 'roles');
    const ttl = body.ttlHours;
    if (ttl !== undefined && !(typeof ttl === 'number' && ttl > 0)) throw new ApiError(400, 'crt_ttl should be positive');
    const outOfRange = ttl === undefined ? undefined : lifetimeProblem(ttl);
    if (outOfRange) throw new ApiError(400, `ttlHours: ${outOfRange}`);
    const root = await state.find<OSRootSecretsSpec>(OS_ROOT);
    if (!root?.spec.issuingCA.key) throw new ApiError(409, 'this node holds no OS CA key (workers only have the certificate): ask a control plane node');
    const issued = await issueClientCertificate(root.spec.issuingCA, {
      roles,
      ...(ttl !== undefined ? { validityHours: ttl } : {}),
      now: new Date(clock.now().toMillis()),
      signingCA: (os) => caKeys.signingCA(os.crt, os.key, 'machine.ca'),
    }).catch((err: unknown) => {
      // the OS CA's key is in a token that cannot sign now: the request was fine, try again later
      if (err instanceof TokenError) throw new ApiError(503, `the OS CA cannot sign now: ${err.message}`);
      throw err;
    });
    void audit.record({
      actor: callActor(ctx),
      source: callSource(ctx),
      action: 'certificate-issued',
      details: { ...certificateDetails('os', new X509Certificate(issued.crt)), issuedBy: 'config new', roles },
    });
    return { ca: root.spec.issuingCA.crt, crt: issued.crt, key: issued.key, ...(issued.clampedTo ? { clampedTo: issued.clampedTo.toISOString() } : {}) };
  };
}
