// `trustctl apply-config -f FILE`: validates a machine config and stores it as the node's MachineConfig, over the API
// (each node validates again before it writes) or in a local store with --state, where a running `serve` sees the write
// through its store watch. `--dry-run` prints what would change, secrets masked. The config, store and API modules load
// only when the command runs.
import type { Command } from 'commander';
import type { AgeIdentityFlags } from './age-flags.js';
import { ageIdentityOption } from './age-flags.js';
import type { CliIo } from './cli-io.js';
import type { MachineConfigFile } from './machine-config-file.js';
import { remoteTargetOf, runsRemotely } from './remote-target.js';
import { STATE_OPTION_HELP, resolveStateDir, storeExists } from './state-path.js';

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
      const remote = runsRemotely(cmd, io.env);
      const { readMachineConfigFile } = await import('./machine-config-file.js');
      const file = await readMachineConfigFile(opts.file, opts, new Date(), io);
      if (!remote) return applyConfigFile(file, opts, io);
      const { remoteApplyConfig } = await import('./remote-machine-config.js');
      return remoteApplyConfig(file, Boolean(opts.dryRun), remoteTargetOf(cmd), io);
    });
}

/** The local form of the command, for callers that hold the options (the audit tests). */
export async function applyConfig(opts: ApplyOptions, io: CliIo): Promise<void> {
  const { readMachineConfigFile } = await import('./machine-config-file.js');
  return applyConfigFile(await readMachineConfigFile(opts.file, opts, new Date(), io), opts, io);
}

async function applyConfigFile(file: MachineConfigFile, opts: ApplyOptions, io: CliIo): Promise<void> {
  const dir = resolveStateDir(opts.state, io);
  if (opts.dryRun) return dryRun(file, dir, io);
  const { openNodeState } = await import('../server/node.js');
  const { applyMachineConfig } = await import('./machine-config-file.js');
  const { recordConfigChange } = await import('./local-audit.js');
  const { state } = await openNodeState(dir, undefined, false, io.env);
  try {
    const result = await applyMachineConfig(state, file);
    if (result.changed) await recordConfigChange(state, 'apply-config', result.previous, result.resource, io.stderr);
    const { type, namespace, id, version } = result.resource.metadata;
    io.stdout.write(result.changed ? `Applied configuration: ${type} ${namespace}/${id} is now at version ${version}.\n` : `${SKIPPED}\n`);
  } finally {
    await state.close();
  }
}

/** Reads the stored config (if there is a store at all: a dry run creates nothing) and prints the masked diff. */
async function dryRun(file: MachineConfigFile, dir: string, io: CliIo): Promise<void> {
  const { sameMachineConfig, storedMachineConfig } = await import('./machine-config-file.js');
  let stored: Awaited<ReturnType<typeof storedMachineConfig>>;
  if (storeExists(dir)) {
    const { openNodeState } = await import('../server/node.js');
    const { state } = await openNodeState(dir, undefined, true, io.env);
    try {
      stored = await storedMachineConfig(state);
    } finally {
      await state.close();
    }
  }
  if (sameMachineConfig(stored, file)) {
    io.stdout.write(`${SKIPPED}\n`);
    return;
  }
  const { parseMachineConfig } = await import('../config/index.js');
  const { machineConfigDiff } = await import('./config-diff.js');
  const before = stored ? `stored ${stored.metadata.type} ${stored.metadata.namespace}/${stored.metadata.id} version ${stored.metadata.version}` : 'stored (none)';
  const diff = machineConfigDiff(stored ? parseMachineConfig(stored.spec.yaml) : undefined, file.config, { before, after: file.path });
  io.stdout.write(`Dry run summary:\nThe configuration would be applied (skipped in dry-run).\n\nConfig diff:\n\n${diff}`);
}
