// MachineConfigs (config/v1alpha1): the desired state, stored as the user's YAML text so every field and comment survives.
import { z } from 'zod';
import { machineConfigProblems } from '../config/machine-config-validate.js';
import { parseMachineConfig } from '../config/machine-config.js';
import type { MachineConfig } from '../config/machine-config.js';
import { ValidationError } from '../runtime/errors.js';
import { defineResource } from '../runtime/resource.js';
import type { Resource } from '../runtime/resource.js';
import { specValidator } from './spec-schema.js';

export interface MachineConfigSpec {
  yaml: string;
}

const shape = specValidator('MachineConfigs', z.object({ yaml: z.string().min(1, 'is empty: expected a v1alpha1 machine config') }).strict());

export const MACHINE_CONFIG_ID = 'v1alpha1';

export const MachineConfigs = defineResource<MachineConfigSpec>({
  type: 'MachineConfigs',
  aliases: ['machineconfig', 'machineconfigs', 'mc', 'mcs'],
  namespace: 'config',
  sensitive: true,
  printColumns: [{ name: 'TYPE', value: (r) => machineTypeOf(r) }],
  validate(spec) {
    const checked = shape(spec);
    // Parsed through the same cache the controllers read from: the text stored now is the text they parse next.
    const config = parsedConfig(checked.yaml);
    const problems = machineConfigProblems(config);
    if (problems.length > 0) throw new ValidationError('MachineConfigs', problems.join('; '));
    return checked;
  },
});

const parsed = new Map<string, MachineConfig>();

/**
 * The parsed config of a MachineConfigs resource. Several controllers read the same text on every change, so the last
 * few parses are kept; callers treat the result as read-only (clone() before changing it).
 */
export function machineConfigOf(resource: Resource<MachineConfigSpec>): MachineConfig {
  return parsedConfig(resource.spec.yaml);
}

function parsedConfig(text: string): MachineConfig {
  let config = parsed.get(text);
  if (!config) {
    config = parseMachineConfig(text);
    if (parsed.size >= 8) parsed.delete(parsed.keys().next().value as string);
    parsed.set(text, config);
  }
  return config;
}

function machineTypeOf(resource: Resource<MachineConfigSpec>): string {
  try {
    return machineConfigOf(resource).type;
  } catch {
    return '?';
  }
}
