// Records what a --state command changed in that node's audit trail, as actor `local`, and signs the head before the
// command exits (a one-shot process has no timer to sign it later).
import type { AuditEvent } from '../controllers/audit/index.js';
import type { MachineConfigSpec } from '../resources/machine-config.js';
import type { Resource } from '../runtime/resource.js';
import type { State } from '../runtime/state.js';
import type { CliOutput } from './cli-io.js';

/** `stderr` takes the warning when the record cannot be written (the change itself stands). */
export async function recordLocally(state: State, event: Omit<AuditEvent, 'actor'>, stderr: CliOutput): Promise<void> {
  const { AuditRecorder, LOCAL_ACTOR } = await import('../controllers/audit/index.js');
  const audit = new AuditRecorder({ state, onError: (message, fields) => stderr.write(`warning: ${message}: ${String(fields.error)}\n`) });
  await audit.record({ actor: LOCAL_ACTOR, ...event });
  await audit.close();
}

/** The record of a machine config written by a local command (`via`: apply-config, patch, serve --config). */
export async function recordConfigChange(state: State, via: string, before: Resource<MachineConfigSpec> | undefined, after: Resource<MachineConfigSpec>, stderr: CliOutput): Promise<void> {
  const { configChangeDetails } = await import('../controllers/audit/index.js');
  await recordLocally(state, { action: 'machine-config-changed', details: { ...configChangeDetails(via, before?.spec.yaml, after.spec.yaml), version: after.metadata.version } }, stderr);
}
