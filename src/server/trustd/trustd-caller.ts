// Who is calling trustd's apid-certificate and revocation endpoints. With an Authorization header, a token: the static
// machine.token (Talos's way, on unless TokenPolicies turns it off) or, for a CSR, a join token of the store. Without
// one, a node's current apid certificate presented in the handshake (node-certificate-auth.ts): how a node renews and
// follows revocations once its join token is spent or the static token is off. A token sent beside a certificate
// decides alone, so the token path is exactly what it was.
import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { JoinTokenSpec } from '../../resources/join-token.js';
import type { Resource } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';
import { staticTokenMode } from '../join-tokens/join-token-admin.js';
import type { RevokedSet } from '../revocation/index.js';
import { findJoinToken } from './join-token-check.js';
import { nodeCertificate } from './node-certificate-auth.js';
import type { NodeCertificate, NodeCertificatePurpose } from './node-certificate-auth.js';
import { peerCertificate } from './peer-certificate.js';
import { bearerToken, checkBearerToken, sameToken } from './token-check.js';
import type { TokenDigest } from './token-check.js';
import { TrustdError } from './trustd-error.js';

export type TrustdCaller = { auth: 'static'; token: string } | { auth: 'join'; token: string; joinToken: Resource<JoinTokenSpec> } | { auth: 'certificate'; node: NodeCertificate };

export interface CallerContext {
  state: Pick<State, 'find'>;
  /** The static machine.token's digest; undefined while this node has no OS root secrets. */
  staticToken: TokenDigest | undefined;
  /** The accepted OS CAs a node's certificate must chain to. */
  accepted: readonly X509Certificate[];
  revoked: RevokedSet;
  now: Date;
}

const MISSING = "missing token: send machine.token or a join token (Authorization: Bearer), or present this node's current apid certificate";

/** The caller of POST /v1/certificate; TrustdError 401/403 when none is accepted. */
export async function csrCaller(req: IncomingMessage, c: CallerContext): Promise<TrustdCaller> {
  const certificate = certificateCaller(req, c, 'certificate renewal');
  if (certificate) return certificate;
  const token = bearerToken(req.headers.authorization);
  if (sameToken(token, c.staticToken)) return staticCaller(c, token);
  return { auth: 'join', token, joinToken: await findJoinToken(c.state, token, c.now) };
}

/** The caller of GET /v1/revocations: the static token or a node's certificate (a join token admits CSRs only). */
export async function revocationsCaller(req: IncomingMessage, c: CallerContext): Promise<TrustdCaller> {
  const certificate = certificateCaller(req, c, 'revocation list');
  if (certificate) return certificate;
  checkBearerToken(req.headers.authorization, c.staticToken);
  return staticCaller(c, bearerToken(req.headers.authorization));
}

function certificateCaller(req: IncomingMessage, c: CallerContext, purpose: NodeCertificatePurpose): TrustdCaller | undefined {
  if (req.headers.authorization !== undefined) return undefined;
  const peer = peerCertificate(req);
  if (!peer) throw new TrustdError(401, MISSING);
  return { auth: 'certificate', node: nodeCertificate(peer, c.accepted, c.revoked, c.now, purpose) };
}

async function staticCaller(c: CallerContext, token: string): Promise<TrustdCaller> {
  if ((await staticTokenMode(c.state)) === 'refused') {
    throw new TrustdError(401, 'the static machine.token is turned off for this cluster (trustctl token static): join with a token from `trustctl token create` (a node that has joined presents its current apid certificate instead)');
  }
  return { auth: 'static', token };
}
