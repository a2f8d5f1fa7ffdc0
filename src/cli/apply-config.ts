// `trustctl apply-config -f FILE`: validates a machine config and stores it as the local node's MachineConfig; a
// running `serve` sees the write through its store watch. `--dry-run` prints what would change, secrets masked.
import type { Command } from 'commander';
import { ageIdentityOption } from './age-flags.js';
import type { AgeIdentityFlags } from './age-flags.js';
import type { CliIo } from './cli-io.js';
import { runsRemotely } from './remote-target.js';
import { STATE_OPTION_HELP } from './state-path.js';

export interface ApplyOptions extends AgeIdentityFlags {
  file: string;
  state?: string;
  dryRun?: boolean;
}

export const SKIPPED = 'Apply was skipped: no changes detected.';

export function registerApplyConfigCommand(program: Command, io: CliIo): void {
  program
    .command('apply-config')
    .description("Validate a machine config and apply it to nodes over the API, or to a local node's store with --state")
    .requiredOption('-f, --file <file>', 'the machine config to apply (plain or age-encrypted)')
    .addOption(ageIdentityOption())
    .option('--state <dir>', STATE_OPTION_HELP)
    .option('--dry-run', 'print the changes (secrets masked) and change nothing')
    .action(async (opts: ApplyOptions, cmd: Command) => {
      const action = await import('./apply-config-action.js');
      return runsRemotely(cmd, io.env) ? action.applyConfigRemotely(opts, cmd, io) : action.applyConfig(opts, io);
    });
}
