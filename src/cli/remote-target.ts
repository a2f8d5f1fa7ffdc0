// Where a command runs: on a local node's store (--state, or $TRUSTPLANE_STATE_DIR) or over the API through a
// talosconfig (-e/-n/--talosconfig, or by default). The API options are global, like talosctl's:
// `trustctl [--talosconfig F] [--context C] [-e ENDPOINT] [-n NODE,...] <command>`.
import type { Command } from 'commander';
import type { RemoteTarget } from './api-client.js';
import type { CliEnv } from './cli-io.js';
import { STATE_DIR_ENV } from './constants.js';

const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

export function addRemoteOptions(program: Command): void {
  program
    .option('--talosconfig <path>', 'the talosconfig to use (default: $TALOSCONFIG, then ~/.talos/config)')
    .option('--context <name>', 'the talosconfig context to use (default: its current context)')
    .option('-e, --endpoints <endpoints>', "the apid endpoint(s) to connect to, host[:port] (default: the context's)", list)
    .option('-n, --nodes <nodes>', 'the node(s) to ask, forwarded by the endpoint, host[:port] (default: the context\'s nodes)', list);
}

interface Located {
  talosconfig?: string;
  context?: string;
  endpoints?: string[];
  nodes?: string[];
  state?: string;
}

export function remoteTargetOf(cmd: Command): RemoteTarget {
  const all = cmd.optsWithGlobals<Located>();
  return {
    ...(all.talosconfig ? { talosconfig: all.talosconfig } : {}),
    ...(all.context ? { context: all.context } : {}),
    ...(all.endpoints?.length ? { endpoints: all.endpoints } : {}),
    ...(all.nodes?.length ? { nodes: all.nodes } : {}),
  };
}

/** Remote unless --state (or $TRUSTPLANE_STATE_DIR) names a local store; both at once is refused. */
export function runsRemotely(cmd: Command, env: CliEnv): boolean {
  const all = cmd.optsWithGlobals<Located>();
  const remoteAsked = Boolean(all.endpoints?.length || all.nodes?.length);
  if (all.state && remoteAsked) throw new Error('--state reads a local node\'s store, -e/-n talk to apid: use one or the other');
  if (all.state) return false;
  return remoteAsked || Boolean(all.talosconfig) || !env[STATE_DIR_ENV];
}
