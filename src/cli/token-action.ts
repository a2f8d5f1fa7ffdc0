// The actions of `trustctl token` (token.ts declares the commands), loaded only when they run: the same operations
// over the API (one node: the endpoint, or the one -n names) or on a local store with --state.
import type { Command } from 'commander';
import { JoinTokens, joinTokenBinding, joinTokenIdOf, joinTokenState } from '../resources/join-token.js';
import type { JoinTokenSpec } from '../resources/join-token.js';
import type { StaticTokenMode, TokenPolicySpec } from '../resources/token-policy.js';
import type { Resource } from '../runtime/resource.js';
import type { State } from '../runtime/state.js';
import { paths } from '../server/apid/api-paths.js';
import type { JoinTokenAuditEvent, JoinTokenCreated, JoinTokenRequest } from '../server/join-tokens/index.js';
import type { ApiClient } from './api-client.js';
import type { CliIo } from './cli-io.js';
import { recordLocally } from './local-audit.js';
import { formatResources, formatTable } from './resource-output.js';
import { remoteTargetOf, runsRemotely } from './remote-target.js';
import { requireStore, resolveStateDir } from './state-path.js';
import type { TokenCreateOptions, TokenListOptions } from './token.js';

/** Who a token made with --state was made by: there is no client certificate to name. */
export const LOCAL_CREATOR = 'local (--state)';

interface TokenBackend {
  create(request: JoinTokenRequest): Promise<JoinTokenCreated>;
  list(): Promise<Resource<JoinTokenSpec>[]>;
  revoke(id: string): Promise<string>;
  setStatic(mode: StaticTokenMode): Promise<Resource<TokenPolicySpec>>;
}

export async function createToken(opts: TokenCreateOptions, cmd: Command, io: CliIo): Promise<void> {
  const request: JoinTokenRequest = {
    ...(opts.ttl !== undefined ? { ttlSeconds: ttlSeconds(opts.ttl) } : {}),
    ...(opts.uses !== undefined ? { uses: opts.uses } : {}),
    ...(opts.nodeIp.length > 0 ? { nodeIPs: opts.nodeIp } : {}),
    ...(opts.hostname !== undefined ? { hostname: opts.hostname } : {}),
  };
  const created = await withBackend(cmd, opts.state, io, (b) => b.create(request));
  io.stdout.write(`${created.token}\n`);
  const { spec, metadata } = created.resource;
  io.stderr.write(`join token ${metadata.id}: ${spec.uses} use(s) until ${spec.expires}, bound to ${joinTokenBinding(created.resource)}; it is shown this once\n`);
}

export async function listTokens(opts: TokenListOptions, cmd: Command, io: CliIo): Promise<void> {
  const tokens = await withBackend(cmd, opts.state, io, (b) => b.list(), true);
  if (opts.output !== 'table') {
    io.stdout.write(formatResources(JoinTokens, tokens, opts.output, false));
    return;
  }
  const now = new Date();
  const rows = tokens.map((t) => [t.metadata.id, t.spec.expires, joinTokenState(t.spec, now), `${t.spec.used}/${t.spec.uses}`, joinTokenBinding(t), t.spec.createdBy]);
  io.stdout.write(formatTable([['ID', 'EXPIRES', 'STATE', 'USES', 'BOUND TO', 'CREATED BY'], ...rows]));
}

export async function revokeToken(id: string, opts: { state?: string }, cmd: Command, io: CliIo): Promise<void> {
  const revoked = await withBackend(cmd, opts.state, io, (b) => b.revoke(id));
  io.stdout.write(`join token ${revoked} revoked\n`);
}

export async function setStaticToken(mode: 'accept' | 'refuse', opts: { state?: string }, cmd: Command, io: CliIo): Promise<void> {
  const policy = await withBackend(cmd, opts.state, io, (b) => b.setStatic(mode === 'accept' ? 'accepted' : 'refused'));
  io.stdout.write(`static machine.token: ${policy.spec.staticToken} by trustd${policy.spec.staticToken === 'refused' ? '; nodes join with `trustctl token create` tokens' : ''}\n`);
}

function ttlSeconds(ms: number): number {
  if (!(ms >= 60_000 && ms <= 8760 * 3_600_000)) throw new Error(`--ttl: expected a lifetime from 1m to 8760h, got ${ms / 1000}s`);
  return Math.round(ms / 1000);
}

async function withBackend<T>(cmd: Command, stateFlag: string | undefined, io: CliIo, use: (backend: TokenBackend) => Promise<T>, readOnly = false): Promise<T> {
  if (runsRemotely(cmd, io.env)) {
    const { connectApi } = await import('./api-client.js');
    const { client, nodes } = await connectApi(remoteTargetOf(cmd), io);
    try {
      if (nodes.length > 1) throw new Error(`token commands act on one control plane's store: pass one node with -n (got ${nodes.join(', ')})`);
      return await use(remoteBackend(client, nodes[0]));
    } finally {
      client.close();
    }
  }
  const dir = resolveStateDir(stateFlag, io);
  // Tokens belong in a node's store: a path with none is a mistake, not a place to start a new store.
  requireStore(dir);
  const { openNodeState } = await import('../server/node.js');
  const { state } = await openNodeState(dir, undefined, readOnly);
  try {
    return await use(await localBackend(state, io));
  } finally {
    await state.close();
  }
}

function remoteBackend(client: ApiClient, node: string | undefined): TokenBackend {
  const on = node ? { node } : {};
  return {
    create: (request) => client.call<JoinTokenCreated>('POST', paths.joinTokens, { ...on, body: request }),
    list: () => client.call<Resource<JoinTokenSpec>[]>('GET', paths.joinTokens, on),
    // A whole token pasted in is cut to its id here: the secret part never travels, not even to be refused.
    revoke: async (id) => (await client.call<{ revoked: string }>('DELETE', paths.joinToken(joinTokenIdOf(id) ?? id), on)).revoked,
    setStatic: (mode) => client.call<Resource<TokenPolicySpec>>('PUT', paths.tokenPolicy, { ...on, body: { staticToken: mode } }),
  };
}

/** The store's own functions, each change recorded in the store's audit trail as by `local`. */
async function localBackend(state: State, io: CliIo): Promise<TokenBackend> {
  const admin = await import('../server/join-tokens/index.js');
  const names = { ttlSeconds: '--ttl', uses: '--uses', nodeIPs: '--node-ip', hostname: '--hostname' };
  const recorded = async <T>(result: T, event: (result: T) => JoinTokenAuditEvent): Promise<T> => {
    await recordLocally(state, event(result), io.stderr);
    return result;
  };
  return {
    create: async (request) => recorded(await admin.createJoinToken(state, admin.checkJoinTokenRequest({ ...request }, names), LOCAL_CREATOR, new Date()), admin.tokenCreatedEvent),
    list: () => admin.listJoinTokens(state),
    revoke: async (id) => recorded(await admin.revokeJoinToken(state, id), admin.tokenRevokedEvent),
    setStatic: async (mode) => recorded(await admin.setStaticTokenMode(state, mode, LOCAL_CREATOR), (policy) => admin.staticTokenEvent(policy.spec.staticToken)),
  };
}
