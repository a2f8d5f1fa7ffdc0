// Refusals of the runtime (not of the store): a controller reaching outside its declarations, a registration that
// would break output ownership, a write after shutdown. Each names the controller, the thing and the fix.
import type { ControllerInput, ControllerOutput } from './controller.js';

export type RuntimeErrorCode = 'Access' | 'Registration' | 'Stopped';

export class RuntimeError extends Error {
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = `${code}Error`;
  }
}

function describeInputs(inputs: readonly ControllerInput[]): string {
  return inputs.length ? inputs.map((i) => `${i.namespace}/${i.type}${i.id === undefined ? '' : `/${i.id}`}`).join(', ') : 'none';
}

function describeOutputs(outputs: readonly ControllerOutput[]): string {
  return outputs.length ? outputs.map((o) => `${o.type} (${o.kind})`).join(', ') : 'none';
}

/** A read outside inputs + outputs, or a write outside outputs. */
export class ControllerAccessError extends RuntimeError {
  constructor(
    readonly controller: string,
    readonly operation: 'read' | 'write',
    readonly target: string,
    declared: { inputs: readonly ControllerInput[]; outputs: readonly ControllerOutput[] },
  ) {
    super(
      'Access',
      operation === 'write'
        ? `controller "${controller}" cannot write ${target}: it is not among its outputs [${describeOutputs(declared.outputs)}]; declare it as an output`
        : `controller "${controller}" cannot read ${target}: it is not among its inputs [${describeInputs(declared.inputs)}] or outputs [${describeOutputs(declared.outputs)}]; declare it as an input`,
    );
  }
}

export class ControllerRegistrationError extends RuntimeError {
  constructor(
    readonly controller: string,
    detail: string,
  ) {
    super('Registration', `controller "${controller}" cannot be registered: ${detail}`);
  }
}

export class RuntimeStoppedError extends RuntimeError {
  constructor(
    readonly controller: string,
    target: string,
  ) {
    super('Stopped', `controller "${controller}" cannot write ${target}: the runtime is stopped`);
  }
}
