// `trustctl config endpoint` and `config node`: replace the endpoint or node list of the current context (or of
// --context). Every address is checked before the file is written, so bad input changes nothing.
import type { Command } from 'commander';
import type { TalosContext } from '../config/index.js';
import type { CliIo } from './cli-io.js';
import { load, located, save, withTalosconfigOption } from './talosconfig-file.js';
import type { Located } from './talosconfig-file.js';

export function registerConfigEndpointCommands(config: Command, io: CliIo): void {
  withTalosconfigOption(config.command('endpoint').alias('endpoints'))
    .description('Set the endpoint(s) of the current context (or of --context): the apid addresses trustctl connects to')
    .argument('<endpoint...>', 'host[:port], e.g. 10.5.0.2 or cp-1.example.com:50000')
    .action((args: string[], _opts: unknown, cmd: Command) => configEndpoints(args, located(cmd), io));

  withTalosconfigOption(config.command('node').alias('nodes'))
    .description('Set the node(s) of the current context (or of --context): the nodes commands ask through the endpoint; none clears them')
    .argument('[node...]', 'host[:port], e.g. 10.5.0.3')
    .action((args: string[], _opts: unknown, cmd: Command) => configNodes(args, located(cmd), io));
}

export async function configEndpoints(args: string[], where: Located, io: CliIo): Promise<void> {
  const endpoints = await addresses(args, 'endpoint');
  if (endpoints.length === 0) throw new Error('config endpoint: give at least one endpoint (host[:port], e.g. 10.5.0.2)');
  await editContext(where, io, (ctx) => ({ ...ctx, endpoints }));
}

/** No arguments clears the nodes, as in talosctl: commands then ask the endpoint itself. */
export async function configNodes(args: string[], where: Located, io: CliIo): Promise<void> {
  const nodes = await addresses(args, 'node');
  await editContext(where, io, (ctx) => ({ ...ctx, nodes }));
}

async function editContext(where: Located, io: CliIo, change: (ctx: TalosContext) => TalosContext): Promise<void> {
  const { selectContext } = await import('../config/index.js');
  const { path, config } = await load(where, io);
  if (Object.keys(config.contexts).length === 0) throw new Error(`talosconfig "${path}" has no contexts: create one with \`trustctl gen config\` or \`trustctl config add\``);
  const { name, context } = selectContext(config, where.context || config.context);
  await save(path, { ...config, contexts: { ...config.contexts, [name]: change(context) } }, io);
}

/** Trimmed addresses, each host[:port] with an IP address or DNS name for host; the first bad one is refused. */
async function addresses(args: string[], what: 'endpoint' | 'node'): Promise<string[]> {
  const { isDNSName, isIPAddress } = await import('../config/index.js');
  const { parseNodeAddress } = await import('../server/apid/index.js');
  return args.map((arg) => {
    const value = arg.trim();
    const fix = `expected host[:port] with an IP address or DNS name, e.g. 10.5.0.2 or cp-1.example.com:50000`;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new Error(`config ${what}: ${JSON.stringify(arg)}: ${fix}, without a scheme`);
    let host: string;
    try {
      host = parseNodeAddress(value).host;
    } catch (err) {
      throw new Error(`config ${what}: ${(err as Error).message}`);
    }
    if (!isIPAddress(host) && !isDNSName(host)) throw new Error(`config ${what}: ${JSON.stringify(arg)}: ${fix}`);
    return value;
  });
}

