// The actions of `trustctl apply-config` (apply-config.ts declares the command), loaded only when it runs.
import { recordConfigChange } from './local-audit.js';
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { parseMachineConfig } from '../config/index.js';
import { machineConfigDiff } from './config-diff.js';
import { applyMachineConfig, readMachineConfigFile, sameMachineConfig, storedMachineConfig } from './machine-config-file.js';
import type { MachineConfigFile } from './machine-config-file.js';
import { remoteTargetOf } from './remote-target.js';
import { SKIPPED } from './apply-config.js';
import type { ApplyOptions } from './apply-config.js';
import { resolveStateDir, storeExists } from './state-path.js';

/** Over the API (remote-machine-config.ts): validated here first, then by each node before it writes. */
export async function applyConfigRemotely(opts: ApplyOptions, cmd: Command, io: CliIo): Promise<void> {
  const file = await readMachineConfigFile(opts.file, opts, new Date(), io);
  const { remoteApplyConfig } = await import('./remote-machine-config.js');
  await remoteApplyConfig(file, Boolean(opts.dryRun), remoteTargetOf(cmd), io);
}

export async function applyConfig(opts: ApplyOptions, io: CliIo): Promise<void> {
  const file = await readMachineConfigFile(opts.file, opts, new Date(), io);
  const dir = resolveStateDir(opts.state, io);
  if (opts.dryRun) return dryRun(file, dir, io);
  const { openNodeState } = await import('../server/node.js');
  const { state } = await openNodeState(dir);
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
  let stored: Awaited<ReturnType<typeof storedMachineConfig>>;
  if (storeExists(dir)) {
    const { openNodeState } = await import('../server/node.js');
    const { state } = await openNodeState(dir, undefined, true);
    try {
      stored = await storedMachineConfig(state);
    } finally {
      await state.close();
    }
  }
  if (sameMachineConfig(stored, file.config)) {
    io.stdout.write(`${SKIPPED}\n`);
    return;
  }
  const before = stored ? `stored ${stored.metadata.type} ${stored.metadata.namespace}/${stored.metadata.id} version ${stored.metadata.version}` : 'stored (none)';
  const diff = machineConfigDiff(stored ? parseMachineConfig(stored.spec.yaml) : undefined, file.config, { before, after: file.path });
  io.stdout.write(`Dry run summary:\nThe configuration would be applied (skipped in dry-run).\n\nConfig diff:\n\n${diff}`);
}
