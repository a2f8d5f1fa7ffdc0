// The ReconcileContext the runtime hands a controller: the store seen through the controller's declarations. Reads
// outside inputs + outputs and writes outside outputs are refused, every write carries the controller's name as owner,
// and once the runtime has stopped nothing more is written.
import type { Clock } from './clock.js';
import type { Controller, ReconcileContext } from './controller.js';
import { isStateError } from './errors.js';
import { formatPointer, type Pointer, type Resource, type ResourceDefinition } from './resource.js';
import { ControllerAccessError, RuntimeStoppedError } from './runtime-errors.js';
import type { ListOptions, ModifyResult, State } from './state.js';

export type RuntimeLogger = (message: string, fields?: Record<string, unknown>) => void;

/** What a context needs from the runtime that owns it. */
export interface ContextHost {
  readonly state: State;
  readonly clock: Clock;
  /** True once stop() has let the in-flight reconciles finish. */
  readonly stopped: boolean;
  readonly log: RuntimeLogger;
}

const modifyResultKeys = new Set(['spec', 'labels', 'annotations']);

/** ReconcileContext.modify accepts a bare spec or a ModifyResult; an object holding `spec` and nothing but labels/annotations is the latter. */
function asModifyResult<Spec>(value: ModifyResult<Spec> | Spec | undefined): ModifyResult<Spec> | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'spec' in value) {
    if (Object.keys(value).every((k) => modifyResultKeys.has(k))) return value as ModifyResult<Spec>;
  }
  return { spec: value as Spec };
}

export class ControllerContext implements ReconcileContext {
  readonly controller: string;
  readonly log: ReconcileContext['log'];

  constructor(
    private readonly declared: Controller,
    private readonly host: ContextHost,
  ) {
    this.controller = declared.name;
    this.log = (message, fields) => host.log(message, { controller: declared.name, ...fields });
  }

  get clock(): Clock {
    return this.host.clock;
  }

  async get<Spec>(definition: ResourceDefinition<Spec>, id: string, namespace?: string): Promise<Resource<Spec> | undefined> {
    return this.host.state.find<Spec>(this.readable(definition, namespace, id));
  }

  async list<Spec>(definition: ResourceDefinition<Spec>, namespace?: string, options?: ListOptions): Promise<Resource<Spec>[]> {
    const ns = namespace ?? definition.namespace;
    const onlyIds = this.listableIds(definition.type, ns);
    const found = await this.host.state.list<Spec>({ namespace: ns, type: definition.type }, options);
    return onlyIds ? found.filter((r) => onlyIds.has(r.metadata.id)) : found;
  }

  async modify<Spec>(
    definition: ResourceDefinition<Spec>,
    id: string,
    mutate: (current: Resource<Spec> | undefined) => ModifyResult<Spec> | Spec | undefined,
    namespace?: string,
  ): Promise<Resource<Spec> | undefined> {
    const pointer = this.writable(definition, id, namespace);
    return this.host.state.modify<Spec>(pointer, (current) => asModifyResult(mutate(current)), { owner: this.controller });
  }

  /** Destroying what is already gone is not an error: reconciles must be safe to run twice. */
  async destroy(definition: ResourceDefinition, id: string, namespace?: string): Promise<void> {
    const pointer = this.writable(definition, id, namespace);
    await ignoreNotFound(this.host.state.destroy(pointer, { owner: this.controller }), undefined);
  }

  /**
   * Tears down each owned resource not in `keep` and destroys those whose finalizers are gone; the rest stay in
   * tearingDown until their consumers let go (declare the type as an input too, to be woken when they do).
   * Returns how many were destroyed.
   */
  async destroyOthers(definition: ResourceDefinition, keep: Iterable<string>, namespace?: string): Promise<number> {
    const ns = namespace ?? definition.namespace;
    this.writable(definition, '*', ns);
    const kept = new Set(keep);
    let destroyed = 0;
    for (const r of await this.host.state.list({ namespace: ns, type: definition.type })) {
      if (r.metadata.owner !== this.controller || kept.has(r.metadata.id)) continue;
      if (await this.teardown(definition, r.metadata.id, ns)) {
        await this.destroy(definition, r.metadata.id, ns);
        destroyed++;
      }
    }
    return destroyed;
  }

  async teardown(definition: ResourceDefinition, id: string, namespace?: string): Promise<boolean> {
    const pointer = this.writable(definition, id, namespace);
    return ignoreNotFound(this.host.state.teardown(pointer, { owner: this.controller }), true);
  }

  /** Consumers put finalizers on their inputs, so finalizers need read access, not ownership. */
  async addFinalizer(definition: ResourceDefinition, id: string, finalizer: string, namespace?: string): Promise<void> {
    const pointer = this.readable(definition, namespace, id);
    this.refuseAfterStop(pointer);
    await this.host.state.addFinalizer(pointer, finalizer);
  }

  async removeFinalizer(definition: ResourceDefinition, id: string, finalizer: string, namespace?: string): Promise<void> {
    const pointer = this.readable(definition, namespace, id);
    this.refuseAfterStop(pointer);
    await ignoreNotFound(this.host.state.removeFinalizer(pointer, finalizer), undefined);
  }

  private readable(definition: ResourceDefinition, namespace: string | undefined, id: string): Pointer {
    const pointer = { namespace: namespace ?? definition.namespace, type: definition.type, id };
    const { inputs, outputs } = this.declared;
    const allowed =
      outputs.some((o) => o.type === pointer.type) ||
      inputs.some((i) => i.type === pointer.type && i.namespace === pointer.namespace && (i.id === undefined || i.id === id));
    if (!allowed) throw new ControllerAccessError(this.controller, 'read', formatPointer(pointer), this.declared);
    return pointer;
  }

  /** Undefined when the whole kind is readable; the readable ids when only id-scoped inputs match. */
  private listableIds(type: string, namespace: string): Set<string> | undefined {
    const { inputs, outputs } = this.declared;
    if (outputs.some((o) => o.type === type)) return undefined;
    const matching = inputs.filter((i) => i.type === type && i.namespace === namespace);
    if (matching.length === 0) throw new ControllerAccessError(this.controller, 'read', `${namespace}/${type}`, this.declared);
    if (matching.some((i) => i.id === undefined)) return undefined;
    return new Set(matching.map((i) => i.id!));
  }

  private writable(definition: ResourceDefinition, id: string, namespace: string | undefined): Pointer {
    const pointer = { namespace: namespace ?? definition.namespace, type: definition.type, id };
    if (!this.declared.outputs.some((o) => o.type === pointer.type)) {
      throw new ControllerAccessError(this.controller, 'write', `${pointer.namespace}/${pointer.type}`, this.declared);
    }
    this.refuseAfterStop(pointer);
    return pointer;
  }

  private refuseAfterStop(pointer: Pointer): void {
    if (this.host.stopped) throw new RuntimeStoppedError(this.controller, formatPointer(pointer));
  }
}

async function ignoreNotFound<T>(operation: Promise<T>, fallback: T): Promise<T> {
  try {
    return await operation;
  } catch (err) {
    if (isStateError(err, 'NotFound')) return fallback;
    throw err;
  }
}
