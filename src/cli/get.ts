// `trustctl get TYPE [ID]`: reads a local node's store through the State API, like `talosctl get` reads a node.
// `-w` follows changes (other processes' commits included: the SQLite backend polls while watched) until Ctrl-C.
// `get securitystatus` exits 2 when the node is not healthy, so cron jobs and CI can gate on it.
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { OUTPUT_FORMATS } from './output-format.js';
import type { OutputFormat } from './output-format.js';
import { runsRemotely } from './remote-target.js';
import { isResourceDefinitionsName } from './resource-definitions.js';
import { STATE_OPTION_HELP } from './state-path.js';

export interface GetOptions {
  state?: string;
  namespace?: string;
  output: OutputFormat;
  watch?: boolean;
}

/** The exit code of `get securitystatus` when a finding is a warning or worse (1 stays "the command failed"). */
export const UNHEALTHY_EXIT_CODE = 2;

export function registerGetCommand(program: Command, io: CliIo): void {
  program
    .command('get')
    .description('Show resources of nodes over the API, or of a local node with --state (types and aliases: certificatestatus/cs, securitystatus, machineconfig/mc, ...; `get rd` lists them all)')
    .argument('<type>', 'resource type or alias')
    .argument('[id]', 'only this resource')
    .option('--state <dir>', STATE_OPTION_HELP)
    .option('--namespace <ns>', "namespace (default: the type's own)")
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .option('-w, --watch', 'print changes as they happen (+ created, - destroyed, blank updated) until Ctrl-C')
    .action(async (type: string, id: string | undefined, opts: GetOptions, cmd: Command) => {
      const action = await import('./get-action.js');
      if (isResourceDefinitionsName(type)) {
        const { endpoints, nodes } = cmd.optsWithGlobals<{ endpoints?: string[]; nodes?: string[] }>();
        if (endpoints?.length || nodes?.length) io.stderr.write('note: get rd lists the types built into this trustctl; no node is asked\n');
        return action.getResourceDefinitions(id, opts, io);
      }
      return runsRemotely(cmd, io.env) ? action.getRemote(type, id, opts, cmd, io) : action.get(type, id, opts, io);
    });
}
