// `trustctl patch machineconfig --patch @FILE [--patch ...] [--dry-run]`: applies strategic merge or RFC 6902 patches
// to the local node's stored MachineConfig. The patched config is validated before anything is written; --dry-run
// prints the config diff (secrets masked) and which certificates the controllers would re-issue, and why.
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { runsRemotely, remoteTargetOf } from './remote-target.js';
import { STATE_OPTION_HELP } from './state-path.js';

export interface PatchOptions {
  patch: string[];
  state?: string;
  dryRun?: boolean;
}

export function registerPatchCommand(program: Command, io: CliIo): void {
  const patch = program.command('patch').description("Patch a resource of nodes over the API, or of a local node's store with --state");
  patch
    .command('machineconfig')
    .aliases(['mc', 'machineconfigs'])
    .description('Apply strategic merge or RFC 6902 patches to the stored machine config')
    .requiredOption('-p, --patch <patch>', '@FILE, or the patch itself; repeat to apply several in order', collect, [])
    .option('--dry-run', 'print the config diff (secrets masked) and the certificate impact; change nothing')
    .option('--state <dir>', STATE_OPTION_HELP)
    .action(async (opts: PatchOptions, cmd: Command) => {
      if (!runsRemotely(cmd, io.env)) return (await import('./patch-action.js')).patchMachineConfigCommand(opts, io);
      // Over the API (remote-machine-config.ts): the patches are read and parsed here, applied and validated by each node.
      const { remotePatch } = await import('./remote-machine-config.js');
      return remotePatch(opts.patch, Boolean(opts.dryRun), remoteTargetOf(cmd), io);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
