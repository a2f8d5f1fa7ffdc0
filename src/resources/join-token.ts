// JoinTokens (secrets/<token id>): tokens that admit a node to trustd a limited number of times, until they expire, and
// only for the names they are bound to. A token reads like Talos's machine.token (`abcdef.0123456789abcdef`, so a
// worker config carries it unchanged); its first six characters are its id, the rest is the secret. The store keeps
// only the token's SHA-256 hash, so the resource is not sensitive: reading it (a snapshot, a backup, `get`) gives
// nobody a token. `used` is bumped with a compare-and-swap on the resource's version by whichever trustd accepts it.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineResource } from '../runtime/resource.js';
import type { Resource } from '../runtime/resource.js';
import { isoTime } from './common.js';
import { specValidator } from './spec-schema.js';

const schema = z
  .object({
    /** `sha256:<hex>` of the whole token. */
    hash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    expires: isoTime,
    uses: z.number().int().positive(),
    used: z.number().int().nonnegative(),
    /** Empty: any address; else every non-loopback IP a CSR asks for must be one of these. */
    nodeIPs: z.array(z.string().ip()),
    /** When set, a CSR must name this host and no other. */
    hostname: z.string().min(1).optional(),
    /** The client certificate's subject that created it, or `local (--state)`. */
    createdBy: z.string(),
    lastUse: z.object({ at: isoTime, source: z.string(), names: z.array(z.string()) }).strict().optional(),
  })
  .strict();
export type JoinTokenSpec = z.infer<typeof schema>;

export const JOIN_TOKEN_ID_PATTERN = /^[a-z0-9]{6}$/;

/** The id of the resource a token is looked up by (its public part), or undefined when it is not token-shaped. */
export function joinTokenIdOf(token: string): string | undefined {
  const match = /^([a-z0-9]{6})\.[a-z0-9]{16}$/.exec(token);
  return match ? match[1] : undefined;
}

export function joinTokenHash(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

export type JoinTokenState = 'Valid' | 'Expired' | 'UsedUp';

export function joinTokenState(spec: JoinTokenSpec, now: Date): JoinTokenState {
  if (spec.used >= spec.uses) return 'UsedUp';
  if (now.getTime() >= Date.parse(spec.expires)) return 'Expired';
  return 'Valid';
}

const bindingOf = (r: Resource<JoinTokenSpec>) => [...r.spec.nodeIPs, ...(r.spec.hostname ? [r.spec.hostname] : [])].join(',') || '-';

export const JoinTokens = defineResource<JoinTokenSpec>({
  type: 'JoinTokens',
  aliases: ['jointoken', 'jointokens', 'jt'],
  namespace: 'secrets',
  sensitive: false,
  printColumns: [
    { name: 'EXPIRES', value: (r) => r.spec.expires },
    { name: 'USES', value: (r) => `${r.spec.used}/${r.spec.uses}` },
    { name: 'BOUND TO', value: bindingOf },
    { name: 'CREATED BY', value: (r) => r.spec.createdBy },
  ],
  validate: specValidator('JoinTokens', schema),
});

export { bindingOf as joinTokenBinding };
