// A machine config file on its way into a node's store: read and validated before anything is opened (so bad input
// leaves nothing behind), then written as the user's MachineConfig only when it differs from the stored one.
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ConfigError, machineConfigProblems, parseMachineConfig } from '../config/index.js';
import type { MachineConfig } from '../config/index.js';
import { MACHINE_CONFIG_ID, MachineConfigs } from '../resources/machine-config.js';
import type { MachineConfigSpec } from '../resources/machine-config.js';
import type { Pointer, Resource } from '../runtime/resource.js';
import type { State } from '../runtime/state.js';
import type { AgeIdentityFlags } from './age-flags.js';
import { processPlace } from './cli-io.js';
import type { CliPlace } from './cli-io.js';
import { readInputFile } from './input-file.js';

export interface MachineConfigFile {
  path: string;
  yaml: string;
  config: MachineConfig;
}

export const MACHINE_CONFIG_POINTER: Pointer = { namespace: MachineConfigs.namespace, type: MachineConfigs.type, id: MACHINE_CONFIG_ID };

/**
 * Reads (decrypting an age-encrypted file with the identities of `flags`), parses and validates; every problem is
 * reported at once, each naming its field. The CAs are judged valid at `now` when given; serve leaves it out and judges
 * them only if it is about to apply the file (applyMachineConfigOnStart), so a restart with a unit file whose CA has
 * since been rotated away and expired still starts.
 */
export async function readMachineConfigFile(path: string, flags: AgeIdentityFlags, now?: Date, place: CliPlace = processPlace()): Promise<MachineConfigFile> {
  const yaml = await readInputFile({ path, label: `machine config "${path}"`, unreadable: (err) => unreadable(path, err) }, flags, place);
  let config: MachineConfig;
  try {
    config = parseMachineConfig(yaml, `machine config "${path}"`);
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(`${err.message}; nothing was applied`);
    throw err;
  }
  refuseProblems(path, machineConfigProblems(config, now ? { now } : {}));
  return { path, yaml, config };
}

function unreadable(path: string, err: NodeJS.ErrnoException): Error {
  if (err.code === 'ENOENT') return new Error(`machine config "${path}" does not exist; make one with: trustctl gen config <cluster-name> <endpoint>`);
  return new Error(`machine config "${path}" cannot be read: ${err.message}`);
}

function refuseProblems(path: string, problems: readonly string[]): void {
  if (problems.length === 0) return;
  const head = problems.length === 1 ? 'a problem' : `${problems.length} problems`;
  throw new Error(`machine config "${path}" has ${head}; fix it and try again (nothing was applied):\n${problems.map((p) => `\t* ${p}`).join('\n')}`);
}

export async function storedMachineConfig(state: State): Promise<Resource<MachineConfigSpec> | undefined> {
  return state.find<MachineConfigSpec>(MACHINE_CONFIG_POINTER);
}

/** Same documents, same values: comments, key order and formatting do not count as a change. */
export function sameMachineConfig(stored: Resource<MachineConfigSpec> | undefined, file: Pick<MachineConfigFile, 'yaml' | 'config'>): boolean {
  if (!stored) return false;
  // The same text is the same config; only another text is worth parsing (~1 ms for a control plane's config).
  if (stored.spec.yaml === file.yaml) return true;
  try {
    return isDeepStrictEqual(parseMachineConfig(stored.spec.yaml).toJS(), file.config.toJS());
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

/**
 * Writes the file as the user's (owner '') MachineConfig unless the store already holds the same config, noting it as
 * the config last applied from a file (APPLIED_FROM_FILE).
 */
export async function applyMachineConfig(state: State, file: MachineConfigFile): Promise<ApplyResult> {
  let changed = false;
  let previous: Resource<MachineConfigSpec> | undefined;
  const resource = await state.modify<MachineConfigSpec>(MACHINE_CONFIG_POINTER, (current) => {
    previous = current;
    changed = !sameMachineConfig(current, file);
    return changed ? fromFile(current, file) : undefined;
  });
  const now = resource ?? previous;
  if (!now) throw new Error('the machine config was neither written nor found; this is a bug');
  return { changed, resource: now, ...(previous ? { previous } : {}) };
}

/**
 * On the stored MachineConfig: a hash of the config `serve --config` last applied from its file. It tells a file that
 * has not changed since (the stored config may have moved on: apply-config, patch, a CA rotation) from one the user
 * edited, so a restart with the same unit file never undoes what was changed over the API.
 */
export const APPLIED_FROM_FILE = 'trustplane.dev/applied-from-file-sha256';

/** Of the config's values: comments, key order and formatting do not count. */
export function configDigest(config: MachineConfig): string {
  return createHash('sha256').update(JSON.stringify(config.toJS())).digest('hex');
}

export type StartOutcome =
  /** Written: there was no stored config, or the file was edited while the stored config stayed as it applied it. */
  | 'applied'
  | 'unchanged'
  /** The file is as serve last applied it; the store has moved on since and is kept. */
  | 'kept-stored';

/**
 * What `serve --config FILE` does with the file at start. Refused (an error naming both ways out) when both the file
 * and the stored config changed since the file was last applied: one of them would be thrown away.
 */
export async function applyMachineConfigOnStart(
  state: State,
  file: MachineConfigFile,
  reach: string,
  now: Date,
): Promise<{ outcome: StartOutcome; resource: Resource<MachineConfigSpec>; previous?: Resource<MachineConfigSpec> }> {
  const digest = configDigest(file.config);
  let outcome: StartOutcome = 'unchanged';
  let previous: Resource<MachineConfigSpec> | undefined;
  const written = await state.modify<MachineConfigSpec>(MACHINE_CONFIG_POINTER, (current) => {
    previous = current;
    outcome = 'unchanged';
    if (sameMachineConfig(current, file)) return undefined;
    const lastApplied = current?.metadata.annotations[APPLIED_FROM_FILE];
    if (current && lastApplied === digest) {
      outcome = 'kept-stored';
      return undefined;
    }
    if (current && lastApplied !== storedDigest(current)) throw bothChanged(file.path, current, reach);
    // only a file about to be applied must have CAs valid now (readMachineConfigFile checked everything else)
    refuseProblems(file.path, machineConfigProblems(file.config, { now }));
    outcome = 'applied';
    return fromFile(current, file);
  });
  const resource = written ?? previous;
  if (!resource) throw new Error('the machine config was neither written nor found; this is a bug');
  return { outcome, resource, ...(previous ? { previous } : {}) };
}

function fromFile(current: Resource<MachineConfigSpec> | undefined, file: MachineConfigFile) {
  return { spec: { yaml: file.yaml }, annotations: { ...current?.metadata.annotations, [APPLIED_FROM_FILE]: configDigest(file.config) } };
}

function storedDigest(stored: Resource<MachineConfigSpec>): string | undefined {
  try {
    return configDigest(parseMachineConfig(stored.spec.yaml));
  } catch {
    return undefined;
  }
}

function bothChanged(path: string, stored: Resource<MachineConfigSpec>, reach: string): Error {
  return new Error(
    `machine config "${path}" differs from the node's stored config (version ${stored.metadata.version}), and the stored config is not the one serve last applied from a file ` +
      '(apply-config, patch or a CA rotation changed it since): starting would throw one of them away; nothing was applied. ' +
      `Start without --config to keep the stored config (compare with: trustctl apply-config -f ${path} ${reach} --dry-run), ` +
      `or replace it with the file first: trustctl apply-config -f ${path} ${reach}`,
  );
}
