// Making, listing and revoking join tokens, and switching the static machine.token off: what `trustctl token` does,
// the same whether it runs over the API (apid calls these) or on a local store (`--state`). A token is returned once,
// by create, and never stored: the resource holds its hash.
import { randomToken } from '../../config/random-token.js';
import { JOIN_TOKEN_ID_PATTERN, JoinTokens, joinTokenHash, joinTokenIdOf } from '../../resources/join-token.js';
import type { JoinTokenSpec } from '../../resources/join-token.js';
import { TOKEN_POLICY_ID, TokenPolicies } from '../../resources/token-policy.js';
import type { StaticTokenMode, TokenPolicySpec } from '../../resources/token-policy.js';
import { isStateError } from '../../runtime/errors.js';
import type { Pointer, Resource } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';
import type { CheckedJoinTokenRequest } from './join-token-request.js';

export interface JoinTokenCreated {
  /** The token itself: shown this once, stored nowhere. */
  token: string;
  resource: Resource<JoinTokenSpec>;
}

export const joinTokenPointer = (id: string): Pointer => ({ namespace: JoinTokens.namespace, type: JoinTokens.type, id });
export const TOKEN_POLICY: Pointer = { namespace: TokenPolicies.namespace, type: TokenPolicies.type, id: TOKEN_POLICY_ID };

/** `who`: the client certificate's subject, or how the store was reached. */
export async function createJoinToken(state: State, request: CheckedJoinTokenRequest, who: string, now: Date, makeToken: () => string = randomToken): Promise<JoinTokenCreated> {
  const expires = new Date(now.getTime() + request.ttlSeconds * 1000).toISOString();
  // Ids are 6 random characters: a clash with a live token is rare, and then another token is made.
  for (let attempt = 0; attempt < 8; attempt++) {
    const token = makeToken();
    const id = joinTokenIdOf(token)!;
    const spec: JoinTokenSpec = {
      hash: joinTokenHash(token),
      expires,
      uses: request.uses,
      used: 0,
      nodeIPs: request.nodeIPs,
      ...(request.hostname ? { hostname: request.hostname } : {}),
      createdBy: who,
    };
    try {
      const resource = await state.create<JoinTokenSpec>({ metadata: { ...joinTokenPointer(id) }, spec });
      return { token, resource };
    } catch (err) {
      if (!isStateError(err, 'AlreadyExists')) throw err;
    }
  }
  throw new Error('could not find a free join token id after 8 attempts: revoke tokens no longer needed (trustctl token list)');
}

export async function listJoinTokens(state: State): Promise<Resource<JoinTokenSpec>[]> {
  return state.list<JoinTokenSpec>({ namespace: JoinTokens.namespace, type: JoinTokens.type });
}

export class JoinTokenNotFound extends Error {
  constructor(id: string) {
    super(`no join token ${JSON.stringify(id)}: \`trustctl token list\` shows the tokens there are (an id is the part before the dot)`);
    this.name = 'JoinTokenNotFound';
  }
}

/** Removes the token: trustd refuses it from the next request on. Takes the id, or the whole token. */
export async function revokeJoinToken(state: State, idOrToken: string): Promise<string> {
  const id = joinTokenIdOf(idOrToken) ?? idOrToken;
  if (!JOIN_TOKEN_ID_PATTERN.test(id)) throw new JoinTokenNotFound(id);
  try {
    await state.destroy(joinTokenPointer(id));
  } catch (err) {
    if (isStateError(err, 'NotFound')) throw new JoinTokenNotFound(id);
    throw err;
  }
  return id;
}

export async function setStaticTokenMode(state: State, mode: StaticTokenMode, who: string): Promise<Resource<TokenPolicySpec>> {
  const stored = await state.modify<TokenPolicySpec>(TOKEN_POLICY, (current) => (current?.spec.staticToken === mode ? undefined : { spec: { staticToken: mode, changedBy: who } }));
  return stored!;
}

/** Whether trustd accepts the static machine.token: yes unless the policy says refused. */
export async function staticTokenMode(state: Pick<State, 'find'>): Promise<StaticTokenMode> {
  return (await state.find<TokenPolicySpec>(TOKEN_POLICY))?.spec.staticToken ?? 'accepted';
}
