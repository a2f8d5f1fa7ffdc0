// The trustd token check: a bearer token compared with the machine token in constant time. Both sides are hashed first
// so that timingSafeEqual compares equal-length values and the length of the real token does not leak either.
import { createHash, timingSafeEqual } from 'node:crypto';
import { TrustdError } from './trustd-error.js';

export type TokenDigest = Buffer;

export function tokenDigest(token: string): TokenDigest {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Throws TrustdError 401 `missing token` / `invalid token`; `expected` is the digest of the machine token. Returns the
 * token, for the audit record's fingerprint of it.
 */
export function checkBearerToken(authorization: string | undefined, expected: TokenDigest | undefined): string {
  const match = authorization === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  if (!match) throw new TrustdError(401, 'missing token');
  // No token configured (no OS root secrets yet): nothing can match, and the answer must not say why.
  const given = tokenDigest(match[1]);
  if (!expected || !timingSafeEqual(given, expected)) throw new TrustdError(401, 'invalid token');
  return match[1];
}
