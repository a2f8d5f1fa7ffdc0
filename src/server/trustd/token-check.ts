// The trustd token check: a bearer token compared with the machine token in constant time. Both sides are hashed first
// so that timingSafeEqual compares equal-length values and the length of the real token does not leak either.
import { createHash, timingSafeEqual } from 'node:crypto';
import { TrustdError } from './trustd-error.js';

export type TokenDigest = Buffer;

export function tokenDigest(token: string): TokenDigest {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The token of an `Authorization: Bearer <token>` header; TrustdError 401 `missing token` without one. */
export function bearerToken(authorization: string | undefined): string {
  const match = authorization === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  if (!match) throw new TrustdError(401, 'missing token');
  return match[1];
}

/** Whether `token` is the one `expected` is the digest of (constant time); false when nothing is expected. */
export function sameToken(token: string, expected: TokenDigest | undefined): boolean {
  return expected !== undefined && timingSafeEqual(tokenDigest(token), expected);
}

/** Throws TrustdError 401 `missing token` / `invalid token`; `expected` is the digest of the machine token. */
export function checkBearerToken(authorization: string | undefined, expected: TokenDigest | undefined): void {
  // No token configured (no OS root secrets yet): nothing can match, and the answer must not say why.
  if (!sameToken(bearerToken(authorization), expected)) throw new TrustdError(401, 'invalid token');
}
