// A machine config file on its way into a node's store: read and validated before anything is opened (so bad input
// leaves nothing behind), then written as the user's MachineConfig only when it differs from the stored one.
import { readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { ConfigError, machineConfigProblems, parseMachineConfig } from '../config/index.js';
import type { MachineConfig } from '../config/index.js';
import { MACHINE_CONFIG_ID, MachineConfigs } from '../resources/machine-config.js';
import type { MachineConfigSpec } from '../resources/machine-config.js';
import type { Pointer, Resource } from '../runtime/resource.js';
import type { State } from '../runtime/state.js';

export interface MachineConfigFile {
  path: string;
  yaml: string;
  config: MachineConfig;
}

export const MACHINE_CONFIG_POINTER: Pointer = { namespace: MachineConfigs.namespace, type: MachineConfigs.type, id: MACHINE_CONFIG_ID };

/** Reads, parses and validates; every problem is reported at once, each naming its field. */
export async function readMachineConfigFile(path: string): Promise<MachineConfigFile> {
  let yaml: string;
  try {
    yaml = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`machine config "${path}" does not exist; make one with: trustctl gen config <cluster-name> <endpoint>`);
    throw new Error(`machine config "${path}" cannot be read: ${(err as Error).message}`);
  }
  let config: MachineConfig;
  try {
    config = parseMachineConfig(yaml, `machine config "${path}"`);
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(`${err.message}; nothing was applied`);
    throw err;
  }
  const problems = machineConfigProblems(config);
  if (problems.length > 0) {
    const head = problems.length === 1 ? 'a problem' : `${problems.length} problems`;
    throw new Error(`machine config "${path}" has ${head}; fix it and try again (nothing was applied):\n${problems.map((p) => `\t* ${p}`).join('\n')}`);
  }
  return { path, yaml, config };
}

export async function storedMachineConfig(state: State): Promise<Resource<MachineConfigSpec> | undefined> {
  return state.find<MachineConfigSpec>(MACHINE_CONFIG_POINTER);
}

/** Same documents, same values: comments, key order and formatting do not count as a change. */
export function sameMachineConfig(stored: Resource<MachineConfigSpec> | undefined, config: MachineConfig): boolean {
  if (!stored) return false;
  try {
    return isDeepStrictEqual(parseMachineConfig(stored.spec.yaml).toJS(), config.toJS());
  } catch {
    return false;
  }
}

export interface ApplyResult {
  changed: boolean;
  /** What the store holds now. */
  resource: Resource<MachineConfigSpec>;
  previous?: Resource<MachineConfigSpec>;
}

/** Writes the file as the user's (owner '') MachineConfig unless the store already holds the same config. */
export async function applyMachineConfig(state: State, file: MachineConfigFile): Promise<ApplyResult> {
  let changed = false;
  let previous: Resource<MachineConfigSpec> | undefined;
  const resource = await state.modify<MachineConfigSpec>(MACHINE_CONFIG_POINTER, (current) => {
    previous = current;
    changed = !sameMachineConfig(current, file.config);
    return changed ? { spec: { yaml: file.yaml } } : undefined;
  });
  const now = resource ?? previous;
  if (!now) throw new Error('the machine config was neither written nor found; this is a bug');
  return { changed, resource: now, ...(previous ? { previous } : {}) };
}
