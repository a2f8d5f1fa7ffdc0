// The controller contract (COSI's four members): a name, declared inputs and outputs, and a level-triggered reconcile.
// Inputs and outputs are data, so the dependency graph prints without running anything.
import type { DateTime } from 'luxon';
import type { Clock } from './clock.js';
import type { ListOptions, ModifyResult } from './state.js';
import type { Resource, ResourceDefinition } from './resource.js';

export interface ControllerInput {
  type: string;
  namespace: string;
  /** Only this resource; absent means every resource of the type in the namespace. */
  id?: string;
}

export interface ControllerOutput {
  type: string;
  /** exclusive: only this controller may write the type; shared: several may, each its own resources. */
  kind: 'exclusive' | 'shared';
}

export function input(definition: ResourceDefinition, namespace?: string, id?: string): ControllerInput {
  return { type: definition.type, namespace: namespace ?? definition.namespace, ...(id === undefined ? {} : { id }) };
}

export function exclusive(definition: ResourceDefinition): ControllerOutput {
  return { type: definition.type, kind: 'exclusive' };
}

export function shared(definition: ResourceDefinition): ControllerOutput {
  return { type: definition.type, kind: 'shared' };
}

/** What a reconcile returns: come back at a time (the timer heap wakes it), or only on the next input change. */
export interface ReconcileResult {
  requeueAt?: DateTime;
  /** A short human sentence about what it is waiting for or did; shown in controller status. */
  message?: string;
}

export function idle(message?: string): ReconcileResult {
  return message === undefined ? {} : { message };
}

export function requeueAt(at: DateTime | undefined, message?: string): ReconcileResult {
  return { ...(at ? { requeueAt: at } : {}), ...(message === undefined ? {} : { message }) };
}

/**
 * The only door a controller has to the store. Reads are limited to declared inputs and outputs, writes to outputs;
 * every write is stamped with the controller's name as owner.
 */
export interface ReconcileContext {
  readonly clock: Clock;
  readonly controller: string;
  get<Spec>(definition: ResourceDefinition<Spec>, id: string, namespace?: string): Promise<Resource<Spec> | undefined>;
  list<Spec>(definition: ResourceDefinition<Spec>, namespace?: string, options?: ListOptions): Promise<Resource<Spec>[]>;
  /** Creates or updates the resource from the current one (retrying on conflict); undefined from mutate = no write. */
  modify<Spec>(
    definition: ResourceDefinition<Spec>,
    id: string,
    mutate: (current: Resource<Spec> | undefined) => ModifyResult<Spec> | Spec | undefined,
    namespace?: string,
  ): Promise<Resource<Spec> | undefined>;
  destroy(definition: ResourceDefinition, id: string, namespace?: string): Promise<void>;
  /** Destroys every resource of the output type in the namespace owned by this controller whose id is not in keep. */
  destroyOthers(definition: ResourceDefinition, keep: Iterable<string>, namespace?: string): Promise<number>;
  teardown(definition: ResourceDefinition, id: string, namespace?: string): Promise<boolean>;
  addFinalizer(definition: ResourceDefinition, id: string, finalizer: string, namespace?: string): Promise<void>;
  removeFinalizer(definition: ResourceDefinition, id: string, finalizer: string, namespace?: string): Promise<void>;
  readonly log: (message: string, fields?: Record<string, unknown>) => void;
}

export interface Controller {
  readonly name: string;
  readonly inputs: readonly ControllerInput[];
  readonly outputs: readonly ControllerOutput[];
  reconcile(rt: ReconcileContext): Promise<ReconcileResult>;
}
