// `trustctl token`: join tokens for trustd (os:admin), over the API or on a local store with --state.
//   token create [--ttl 1h] [--uses 1] [--node-ip IP]... [--hostname NAME]   prints the new token on one line (once)
//   token list [-o table|yaml|json]                                           ids, expiry, uses, bindings: no secret
//   token revoke ID                                                           trustd refuses it from the next request
//   token static accept|refuse                                                the cluster's static machine.token
// Both places sit behind one TokenBackend; the store, the API client and the printers load only when a command runs.
import { Argument, Option } from 'commander';
import type { Command } from 'commander';
import type { JoinTokenSpec } from '../resources/join-token.js';
import type { StaticTokenMode, TokenPolicySpec } from '../resources/token-policy.js';
import type { Resource } from '../runtime/resource.js';
import type { State } from '../runtime/state.js';
import type { JoinTokenAuditEvent, JoinTokenCreated, JoinTokenRequest } from '../server/join-tokens/index.js';
// api-paths.js, not the apid index: it is small and already loaded to declare `version`.
import { paths } from '../server/apid/api-paths.js';
import type { ApiClient } from './api-client.js';
import type { CliIo } from './cli-io.js';
import { remoteTargetOf, runsRemotely } from './remote-target.js';
import { isIPAddress, hostnameProblem } from '../config/subject-alt-name.js';
import { durationOption } from './duration.js';
import { OUTPUT_FORMATS } from './output-format.js';
import type { OutputFormat } from './output-format.js';
import { STATE_OPTION_HELP, requireStore, resolveStateDir } from './state-path.js';

export interface TokenCreateOptions {
  state?: string;
  ttl?: number;
  uses?: number;
  nodeIp: string[];
  hostname?: string;
}

export interface TokenListOptions {
  state?: string;
  output: OutputFormat;
}

export function registerTokenCommands(program: Command, io: CliIo): void {
  const token = program.command('token').description('Join tokens for trustd: single-use or limited, expiring, bound to a node (os:admin)');
  token
    .command('create')
    .description('Make a join token and print it on one line (it is shown this once; the store keeps only its hash)')
    .option('--state <dir>', STATE_OPTION_HELP)
    .option('--ttl <duration>', 'how long the token is accepted (Go syntax, 1m to 8760h; default 1h)', durationOption('--ttl'))
    .option('--uses <n>', 'how many certificates it may obtain (1 to 10000; default 1)', usesOption)
    .option('--node-ip <ip>', 'accept it only for a CSR whose addresses are among these (repeatable)', collectIp, [])
    .option('--hostname <name>', 'accept it only for a CSR naming this host and no other', hostnameOption)
    .action(async (opts: TokenCreateOptions, cmd: Command) => createToken(opts, cmd, io));
  token
    .command('list')
    .description('List join tokens: id, expiry, state, uses, bindings, who made it (never a token)')
    .option('--state <dir>', STATE_OPTION_HELP)
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .action(async (opts: TokenListOptions, cmd: Command) => listTokens(opts, cmd, io));
  token
    .command('revoke')
    .description('Revoke a join token: trustd refuses it from the next request on')
    .argument('<id>', 'the token id (the part before the dot; `token list` shows them)')
    .option('--state <dir>', STATE_OPTION_HELP)
    .action(async (id: string, opts: { state?: string }, cmd: Command) => revokeToken(id, opts, cmd, io));
  token
    .command('static')
    .description("Accept or refuse the cluster's static machine.token at trustd (accepted by default, as in Talos)")
    .addArgument(new Argument('<mode>', 'accept or refuse').choices(['accept', 'refuse']))
    .option('--state <dir>', STATE_OPTION_HELP)
    .action(async (mode: 'accept' | 'refuse', opts: { state?: string }, cmd: Command) => setStaticToken(mode, opts, cmd, io));
}

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
  const { joinTokenBinding } = await import('../resources/join-token.js');
  io.stderr.write(`join token ${metadata.id}: ${spec.uses} use(s) until ${spec.expires}, bound to ${joinTokenBinding(created.resource)}; it is shown this once\n`);
}

export async function listTokens(opts: TokenListOptions, cmd: Command, io: CliIo): Promise<void> {
  const tokens = await withBackend(cmd, opts.state, io, (b) => b.list(), true);
  const { JoinTokens, joinTokenBinding, joinTokenState } = await import('../resources/join-token.js');
  const { formatResources, formatTable } = await import('./resource-output.js');
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
    const { joinTokenIdOf } = await import('../resources/join-token.js');
    try {
      if (nodes.length > 1) throw new Error(`token commands act on one control plane's store: pass one node with -n (got ${nodes.join(', ')})`);
      return await use(remoteBackend(client, nodes[0], joinTokenIdOf));
    } finally {
      client.close();
    }
  }
  const dir = resolveStateDir(stateFlag, io);
  // Tokens belong in a node's store: a path with none is a mistake, not a place to start a new store.
  requireStore(dir);
  const { openNodeState } = await import('../server/node.js');
  const { state } = await openNodeState(dir, undefined, readOnly, io.env);
  try {
    return await use(await localBackend(state, io));
  } finally {
    await state.close();
  }
}

function remoteBackend(client: ApiClient, node: string | undefined, joinTokenIdOf: (token: string) => string | undefined): TokenBackend {
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
  const { recordLocally } = await import('./local-audit.js');
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

function usesOption(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 10_000) throw new Error(`--uses: expected a whole number from 1 to 10000, got ${JSON.stringify(value)}`);
  return Number(value);
}

function collectIp(value: string, previous: string[]): string[] {
  if (!isIPAddress(value)) throw new Error(`--node-ip: expected an IP address such as 10.0.0.7, got ${JSON.stringify(value)}`);
  return [...previous, value];
}

function hostnameOption(value: string): string {
  const problem = hostnameProblem(value);
  if (problem) throw new Error(`--hostname: ${problem}`);
  return value;
}
