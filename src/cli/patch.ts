// `trustctl patch machineconfig --patch @FILE [--patch ...] [--dry-run]`: applies strategic merge or RFC 6902 patches
// to the local node's stored MachineConfig. The patched config is validated before anything is written; --dry-run
// prints the config diff (secrets masked) and which certificates the controllers would re-issue, and why. Over the API
// (remote-machine-config.ts) the patches are read and parsed here, applied and validated by each node. The config,
// store and impact modules load only when the command runs.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { MachineConfig, MachineConfigPatch } from '../config/index.js';
import type { MachineConfigSpec } from '../resources/machine-config.js';
import type { NodeAddressesSpec } from '../resources/node-addresses.js';
import type { Resource } from '../runtime/resource.js';
import type { State } from '../runtime/state.js';
import { SKIPPED } from './apply-config.js';
import { inCwd } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { runsRemotely, remoteTargetOf } from './remote-target.js';
import { STATE_OPTION_HELP, requireStore, resolveStateDir } from './state-path.js';

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
      if (!runsRemotely(cmd, io.env)) return patchMachineConfigCommand(opts, io);
      const { remotePatch } = await import('./remote-machine-config.js');
      return remotePatch(opts.patch, Boolean(opts.dryRun), remoteTargetOf(cmd), io);
    });
}

export async function patchMachineConfigCommand(opts: PatchOptions, io: CliIo): Promise<void> {
  const { applyPatches, loadPatches, parseMachineConfig } = await import('../config/index.js');
  const { storedMachineConfig } = await import('./machine-config-file.js');
  const { recordConfigChange } = await import('./local-audit.js');
  // Patches are read and parsed before the store is opened: a bad patch leaves nothing behind.
  const patches = loadPatches(opts.patch, (path) => readFileSync(inCwd(io, path), 'utf8'));
  const dir = resolveStateDir(opts.state, io);
  requireStore(dir);
  const { openNodeState } = await import('../server/node.js');
  const { state } = await openNodeState(dir, undefined, false, io.env);
  try {
    const stored = await storedMachineConfig(state);
    if (!stored) throw new Error(`the store in "${dir}" holds no machine config to patch; apply one first: trustctl apply-config -f controlplane.yaml --state ${dir}`);
    const before = parseMachineConfig(stored.spec.yaml, 'the stored machine config');
    const { config, changed } = applyPatches(before, patches, { now: new Date() });
    if (!changed) {
      io.stdout.write(`${SKIPPED}\n`);
      return;
    }
    if (opts.dryRun) {
      io.stdout.write(await dryRunReport(state, stored, before, config, patches));
      return;
    }
    const written = await writePatched(state, stored, config);
    await recordConfigChange(state, 'patch', stored, written, io.stderr);
    const { type, namespace, id, version } = written.metadata;
    io.stdout.write(`Patched configuration: ${type} ${namespace}/${id} is now at version ${version}.\n`);
  } finally {
    await state.close();
  }
}

/** Writes only over the version that was patched, so a concurrent change is not silently overwritten. */
async function writePatched(state: State, stored: Resource<MachineConfigSpec>, config: MachineConfig): Promise<Resource<MachineConfigSpec>> {
  const { MACHINE_CONFIG_POINTER } = await import('./machine-config-file.js');
  const written = await state.modify<MachineConfigSpec>(MACHINE_CONFIG_POINTER, (current) => {
    if (!current || current.metadata.version !== stored.metadata.version)
      throw new Error(`the machine config changed while it was being patched (version ${stored.metadata.version} -> ${current?.metadata.version ?? 'deleted'}); nothing was written, run the command again`);
    return { spec: { yaml: config.toYaml() } };
  });
  if (!written) throw new Error('the patched machine config was not written; this is a bug');
  return written;
}

async function dryRunReport(state: State, stored: Resource<MachineConfigSpec>, before: MachineConfig, after: MachineConfig, patches: readonly MachineConfigPatch[]): Promise<string> {
  const { certificateImpact, formatCertificateImpact } = await import('../controllers/impact/index.js');
  const { NODE_ADDRESSES_ID } = await import('../controllers/node-addresses-controller.js');
  const { NodeAddresses } = await import('../resources/node-addresses.js');
  const { machineConfigDiff } = await import('./config-diff.js');
  const { impactSection } = await import('./impact-section.js');
  const { type, namespace, id, version } = stored.metadata;
  const diff = machineConfigDiff(before, after, {
    before: `stored ${type} ${namespace}/${id} version ${version}`,
    after: `patched (${patches.map((p) => p.source).join(', ')})`,
  });
  const node = await state.find<NodeAddressesSpec>({ namespace: NodeAddresses.namespace, type: NodeAddresses.type, id: NODE_ADDRESSES_ID });
  const impact = formatCertificateImpact(certificateImpact(before, after, node?.spec ?? { addresses: [], hostname: 'localhost' }));
  const note = node ? undefined : "the node's addresses are not known yet: run `trustctl serve` once; SANs from them are not compared";
  return [
    'Dry run summary:',
    'The configuration would be patched (skipped in dry-run).',
    '',
    'Config diff:',
    '',
    diff.trimEnd(),
    '',
    ...impactSection(impact, note),
    '',
  ].join('\n');
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
