// `trustctl token`: join tokens for trustd (os:admin), over the API or on a local store with --state.
//   token create [--ttl 1h] [--uses 1] [--node-ip IP]... [--hostname NAME]   prints the new token on one line (once)
//   token list [-o table|yaml|json]                                           ids, expiry, uses, bindings: no secret
//   token revoke ID                                                           trustd refuses it from the next request
//   token static accept|refuse                                                the cluster's static machine.token
import { Argument, Option } from 'commander';
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { isIPAddress, hostnameProblem } from '../config/subject-alt-name.js';
import { durationOption } from './duration.js';
import { OUTPUT_FORMATS } from './output-format.js';
import type { OutputFormat } from './output-format.js';
import { STATE_OPTION_HELP } from './state-path.js';

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

const actions = () => import('./token-action.js');

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
    .action(async (opts: TokenCreateOptions, cmd: Command) => (await actions()).createToken(opts, cmd, io));
  token
    .command('list')
    .description('List join tokens: id, expiry, state, uses, bindings, who made it (never a token)')
    .option('--state <dir>', STATE_OPTION_HELP)
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .action(async (opts: TokenListOptions, cmd: Command) => (await actions()).listTokens(opts, cmd, io));
  token
    .command('revoke')
    .description('Revoke a join token: trustd refuses it from the next request on')
    .argument('<id>', 'the token id (the part before the dot; `token list` shows them)')
    .option('--state <dir>', STATE_OPTION_HELP)
    .action(async (id: string, opts: { state?: string }, cmd: Command) => (await actions()).revokeToken(id, opts, cmd, io));
  token
    .command('static')
    .description("Accept or refuse the cluster's static machine.token at trustd (accepted by default, as in Talos)")
    .addArgument(new Argument('<mode>', 'accept or refuse').choices(['accept', 'refuse']))
    .option('--state <dir>', STATE_OPTION_HELP)
    .action(async (mode: 'accept' | 'refuse', opts: { state?: string }, cmd: Command) => (await actions()).setStaticToken(mode, opts, cmd, io));
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
