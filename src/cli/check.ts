// `trustctl check`: runs the node's own controllers years ahead over a copy of its store and prints the renewal
// calendar and every problem foreseen (exit 2 with findings, like `get securitystatus`). The node is not changed.
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { remoteTargetOf } from './remote-target.js';
import { STATE_OPTION_HELP } from './state-path.js';

export const CHECK_FORMATS = ['table', 'json'] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];

export interface CheckCliOptions {
  years: number;
  state?: string;
  output: CheckFormat;
}

/** Whole years from 1 to 100: beyond that a CA's end is already the answer. */
export function parseYears(value: string): number {
  const years = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(years) || years < 1 || years > 100) {
    throw new Error(`--years: expected a whole number of years from 1 to 100, got ${JSON.stringify(value)}`);
  }
  return years;
}

export function registerCheckCommand(program: Command, io: CliIo): void {
  program
    .command('check')
    .description("Run the node's controllers years ahead on a copy of its store: the renewal calendar and every problem foreseen (exit 2 when any)")
    .option('--years <n>', 'how far ahead to look', parseYears, 10)
    .option('--state <dir>', `${STATE_OPTION_HELP}; with -e/-n the node runs the check (os:admin)`)
    .addOption(new Option('-o, --output <format>', 'output format').choices(CHECK_FORMATS).default('table'))
    .action(async (opts: CheckCliOptions, cmd: Command) => {
      const { endpoints, nodes, talosconfig } = cmd.optsWithGlobals<{ endpoints?: string[]; nodes?: string[]; talosconfig?: string }>();
      const action = await import('./check-action.js');
      if (endpoints?.length || nodes?.length) {
        if (opts.state) throw new Error("--state reads a local node's store, -e/-n ask apid to run the check: use one or the other");
        return action.checkRemote(opts, remoteTargetOf(cmd), io);
      }
      await action.check(opts, talosconfig, io);
    });
}
