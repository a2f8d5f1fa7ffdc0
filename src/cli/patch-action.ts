// The local action of `trustctl patch machineconfig` (patch.ts declares the command), loaded only when it runs.
import { readFileSync } from 'node:fs';
import { inCwd } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { recordConfigChange } from './local-audit.js';
import { applyPatches, loadPatches, parseMachineConfig } from '../config/index.js';
import type { MachineConfig, MachineConfigPatch } from '../config/index.js';
import { certificateImpact, formatCertificateImpact } from '../controllers/impact/index.js';
import { NODE_ADDRESSES_ID } from '../controllers/node-addresses-controller.js';
import { NodeAddresses } from '../resources/node-addresses.js';
import type { NodeAddressesSpec } from '../resources/node-addresses.js';
import type { MachineConfigSpec } from '../resources/machine-config.js';
import type { Resource } from '../runtime/resource.js';
import type { State } from '../runtime/state.js';
import { SKIPPED } from './apply-config.js';
import { machineConfigDiff } from './config-diff.js';
import { impactSection } from './impact-section.js';
import { MACHINE_CONFIG_POINTER, storedMachineConfig } from './machine-config-file.js';
import type { PatchOptions } from './patch.js';
import { requireStore, resolveStateDir } from './state-path.js';

export async function patchMachineConfigCommand(opts: PatchOptions, io: CliIo): Promise<void> {
  // Patches are read and parsed before the store is opened: a bad patch leaves nothing behind.
  const patches = loadPatches(opts.patch, (path) => readFileSync(inCwd(io, path), 'utf8'));
  const dir = resolveStateDir(opts.state, io);
  requireStore(dir);
  const { openNodeState } = await import('../server/node.js');
  const { state } = await openNodeState(dir);
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
  const written = await state.modify<MachineConfigSpec>(MACHINE_CONFIG_POINTER, (current) => {
    if (!current || current.metadata.version !== stored.metadata.version)
      throw new Error(`the machine config changed while it was being patched (version ${stored.metadata.version} -> ${current?.metadata.version ?? 'deleted'}); nothing was written, run the command again`);
    return { spec: { yaml: config.toYaml() } };
  });
  if (!written) throw new Error('the patched machine config was not written; this is a bug');
  return written;
}

async function dryRunReport(state: State, stored: Resource<MachineConfigSpec>, before: MachineConfig, after: MachineConfig, patches: readonly MachineConfigPatch[]): Promise<string> {
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
