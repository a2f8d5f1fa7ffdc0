// The machine config a node starts with: --config applied when it differs from the stored one (serve's rules in
// machine-config-file.ts), else the stored one, else a refusal saying how to make one.
import type { State } from '../runtime/state.js';
import type { CliOutput } from './cli-io.js';
import { recordConfigChange } from './local-audit.js';
import type { LineLogger } from './log-line.js';
import { applyMachineConfigOnStart, storedMachineConfig } from './machine-config-file.js';
import type { MachineConfigFile } from './machine-config-file.js';

/** `reach`: the trustctl flags that reach this node's store, for the way out of a refusal; `stderr` takes a failed audit record's warning. */
export async function applyConfigOnStart(node: { state: State }, file: MachineConfigFile | undefined, { log, stderr }: { log: LineLogger; stderr: CliOutput }, reach: string): Promise<void> {
  if (!file) {
    if (await storedMachineConfig(node.state)) return;
    throw new Error('the store holds no machine config yet: pass --config FILE (make one with: trustctl gen config <cluster-name> <endpoint>)');
  }
  const { outcome, resource, previous } = await applyMachineConfigOnStart(node.state, file, reach, new Date());
  const fields = { file: file.path, version: resource.metadata.version };
  if (outcome === 'applied') await recordConfigChange(node.state, 'serve --config', previous, resource, stderr);
  if (outcome === 'applied') log('info', 'machine config applied', fields);
  else if (outcome === 'unchanged') log('info', 'machine config unchanged', fields);
  else log('info', 'machine config file unchanged since it was applied: keeping the stored config, changed since over the API', fields);
}
