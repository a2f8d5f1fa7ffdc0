// Join tokens at trustd: a token is looked up by its id (the part before the dot) and accepted only when its hash
// matches (constant time), it has not expired on the injected clock, it has a use left, and the CSR asks only for the
// names it is bound to. A use is spent with a compare-and-swap on the resource's version, so when several trustd (of
// several control planes on one store) accept the same token at once, the store lets exactly as many through as the
// token has uses; the losers re-read and are refused like any later caller.
import { timingSafeEqual } from 'node:crypto';
import type { ParsedCsr } from '../../pki/index.js';
import { JoinTokens, joinTokenHash, joinTokenIdOf, joinTokenState } from '../../resources/join-token.js';
import type { JoinTokenSpec } from '../../resources/join-token.js';
import { isStateError } from '../../runtime/errors.js';
import type { Resource } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';
import { canonicalIp } from '../join-tokens/join-token-request.js';
import { TrustdError } from './trustd-error.js';

const pointer = (id: string) => ({ namespace: JoinTokens.namespace, type: JoinTokens.type, id });
const CONSUME_ATTEMPTS = 16;

/** The join token `token` names when it is one this store holds and may still be used; else TrustdError 401. */
export async function findJoinToken(state: Pick<State, 'find'>, token: string, now: Date): Promise<Resource<JoinTokenSpec>> {
  const id = joinTokenIdOf(token);
  const found = id === undefined ? undefined : await state.find<JoinTokenSpec>(pointer(id));
  if (!found || !sameHash(found.spec.hash, joinTokenHash(token))) throw new TrustdError(401, 'invalid token');
  usable(found, now);
  return found;
}

/** TrustdError 403 when the CSR asks for a name the token is not bound to. */
export function checkBinding(spec: JoinTokenSpec, csr: Pick<ParsedCsr, 'ipAddresses' | 'dnsNames'>): void {
  if (spec.nodeIPs.length > 0) {
    const bound = new Set(spec.nodeIPs);
    const asked = csr.ipAddresses.map(canonicalIp).filter((ip) => !isLoopback(ip));
    const outside = asked.filter((ip) => !bound.has(ip));
    if (outside.length > 0) throw new TrustdError(403, `token is bound to ${spec.nodeIPs.join(', ')}, CSR asks for ${outside.join(', ')}`);
    if (asked.length === 0) throw new TrustdError(403, `token is bound to ${spec.nodeIPs.join(', ')}, CSR asks for none of them`);
  }
  if (spec.hostname) {
    const names = csr.dnsNames.map((n) => n.toLowerCase());
    const outside = names.filter((n) => n !== spec.hostname);
    if (outside.length > 0) throw new TrustdError(403, `token is bound to ${spec.hostname}, CSR asks for ${outside.join(', ')}`);
    if (names.length === 0) throw new TrustdError(403, `token is bound to ${spec.hostname}, CSR asks for no host name`);
  }
}

/** Spends one use of the token (found by findJoinToken); TrustdError 401 when another caller spent the last one first. */
export async function consumeJoinToken(state: Pick<State, 'find' | 'update'>, token: string, use: { now: Date; source: string; names: string[] }): Promise<Resource<JoinTokenSpec>> {
  for (let attempt = 0; attempt < CONSUME_ATTEMPTS; attempt++) {
    const current = await findJoinToken(state, token, use.now);
    const spec: JoinTokenSpec = { ...current.spec, used: current.spec.used + 1, lastUse: { at: use.now.toISOString(), source: use.source, names: use.names } };
    try {
      // update is a compare-and-swap on current.metadata.version: a use spent meanwhile makes it a Conflict.
      return await state.update<JoinTokenSpec>({ ...current, spec });
    } catch (err) {
      if (isStateError(err, 'NotFound')) throw new TrustdError(401, 'invalid token');
      if (!isStateError(err, 'Conflict')) throw err;
    }
  }
  throw new TrustdError(503, 'join token is contended by too many requests at once: retry');
}

function usable(token: Resource<JoinTokenSpec>, now: Date): void {
  const state = joinTokenState(token.spec, now);
  if (state === 'UsedUp') throw new TrustdError(401, `token already used (${token.spec.used} of ${token.spec.uses} use${token.spec.uses === 1 ? '' : 's'}): ask an admin for a new one (trustctl token create)`);
  if (state === 'Expired') throw new TrustdError(401, `token expired at ${token.spec.expires}: ask an admin for a new one (trustctl token create)`);
}

function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || /^127\./.test(ip);
}
