// One apid request, from the client certificate to the answer: the connection's verdict, the revocation check (every
// request: a kept-alive connection must not outlive its certificate's revocation), the roles, the route and its
// permissions, then either the handler here or forwarding to the node named in the header. A refusal is answered as
// `{"error": ...}` with its status, logged (rate-limited) and, for 401 and 403, recorded in the audit trail.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { structureOf } from '../../pki/certificate-structure.js';
import type { RuntimeLogger } from '../../runtime/runtime-context.js';
import type { RefusalAudit } from '../refusal-audit.js';
import type { RefusalLog } from '../refusal-log.js';
import { revokedClientMessage } from '../revocation/index.js';
import type { RevokedSet } from '../revocation/index.js';
import { sendJson } from '../send-json.js';
import { ApiError, toApiError } from './api-error.js';
import { NODE_HEADER, ROLES_HEADER } from './api-paths.js';
import { IMPERSONATOR_ROLE, effectiveRoles } from './authorization.js';
import type { ClientVerdicts } from './client-verdicts.js';
import type { Forwarder } from './forwarding.js';
import type { RevokedPresentations } from './revoked-presentations.js';
import { JsonText, STREAMED, requireRoute } from './router.js';
import type { Router } from './router.js';
import type { WatchSlots } from './watch-slots.js';

export interface DispatchParts {
  router: Router;
  verdicts: ClientVerdicts;
  revoked: RevokedSet;
  presented: RevokedPresentations;
  watches: WatchSlots;
  refusals: RefusalLog;
  refusalAudit: RefusalAudit;
  log: RuntimeLogger;
}

export class CallDispatch {
  /** Set once apid listens (the cluster's apid port defaults to its own); until then a forwarded call is refused. */
  forwarder: Forwarder | undefined;

  constructor(private readonly parts: DispatchParts) {}

  /** The request listener: never throws, every failure becomes an answer. */
  readonly serve = (req: IncomingMessage, res: ServerResponse): void => {
    this.handle(req, res).catch((err: unknown) => this.refuse(req, res, err));
  };

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { router, verdicts, revoked, presented, watches } = this.parts;
    const verdict = await verdicts.of(req.socket as TLSSocket);
    if (!verdict.ok) throw new ApiError(401, verdict.message);
    const revocation = revoked.find('os', verdict.identity.serial);
    if (revocation) {
      presented.note(revocation, req.socket.remoteAddress);
      throw new ApiError(401, revokedClientMessage(revocation));
    }
    const roles = effectiveRoles(verdict.identity.roles, headerOf(req, ROLES_HEADER));
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const { route, params } = router.match(req.method ?? 'GET', path);
    // Before forwarding too: a caller whose roles may not make the call cannot make this node dial anything.
    requireRoute(route, params, roles);
    // Forwarded watches count here too: each holds a connection to the target as long as the caller's.
    if (route.watch) res.once('close', watches.take(verdict.identity.fingerprint, `client "${verdict.identity.subject}"`));
    const target = headerOf(req, NODE_HEADER);
    if (target) {
      if (verdict.identity.roles.includes(IMPERSONATOR_ROLE)) throw new ApiError(400, 'a forwarded call is not forwarded again');
      if (!this.forwarder) throw new ApiError(400, 'this node does not forward calls to other nodes');
      return this.forwarder.forward(req, res, target, roles);
    }
    const result = await route.handler({ req, res, params, query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)), identity: verdict.identity, roles });
    if (result !== STREAMED) sendJson(res, 200, result instanceof JsonText ? result.text : JSON.stringify(result));
  }

  private refuse(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const { log, refusals, refusalAudit } = this.parts;
    const api = toApiError(err);
    if (api.status >= 500) log('apid call failed', { method: req.method, path: req.url, error: api.message });
    else refusals.refused('apid refused a call', () => ({ client: clientOf(req.socket as TLSSocket), method: req.method, path: req.url, status: api.status, error: api.message, source: req.socket.remoteAddress }));
    if (api.status === 401 || api.status === 403) {
      refusalAudit.refused(callerOf(req, api.status), req.socket.remoteAddress, { status: api.status, call: `${req.method ?? '?'} ${(req.url ?? '').split('?')[0]}`, reason: api.message });
    }
    if (!res.headersSent) sendJson(res, api.status, JSON.stringify({ error: api.message }));
    else res.destroy();
  }
}

const NO_CERTIFICATE = 'no certificate';

/** Who a refused caller said it was: its certificate's subject (one line), whether or not we trusted it. */
function clientOf(socket: TLSSocket): string {
  try {
    const peer = socket.getPeerX509Certificate();
    return peer ? structureOf(peer).subject.text : NO_CERTIFICATE;
  } catch {
    return 'unreadable certificate';
  }
}

/**
 * Who a refused caller is in the audit trail: `anonymous` without a certificate; on a 401 the certificate did not pass,
 * so its subject is only what the caller claims, and the record says so.
 */
function callerOf(req: IncomingMessage, status: number): string {
  const client = clientOf(req.socket as TLSSocket);
  if (client === NO_CERTIFICATE) return 'anonymous';
  return status === 401 ? `${client} (not verified)` : client;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
