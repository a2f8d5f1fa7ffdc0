// The write rules of every backend, held once: each write operation runs inside a transaction the backend owns,
// checks in COSI's order (exists, owner, version, phase), writes the row with a compare-and-swap on version and
// appends one event per change, all through the backend's RowStore.
import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  OwnerConflictError,
  PhaseConflictError,
} from '../errors.js';
import { formatPointer } from '../resource.js';
import type { Metadata, NewResource, Pointer, Resource, ResourceDefinition, ResourceRegistry } from '../resource.js';
import type { UpdateOptions } from '../state.js';
import { checkFinalizers, checkName, checkStringMap, checkVersion, specJson } from './metadata-input.js';
import type { RowStore } from './row-store.js';
import type { EventKind, EventRow, ResourceRow, StoredSpec } from './rows.js';
import type { SpecCodec } from './spec-codec.js';

/** One transaction's view: the revision of its last event and the events it produced, in order. */
export interface WriteContext {
  revision: number;
  now: string;
  events: EventRow[];
}

interface Located {
  def: ResourceDefinition;
  pointer: Pointer;
  what: string;
}

export class WriteRules {
  constructor(
    private readonly rows: RowStore,
    private readonly registry: ResourceRegistry,
    private readonly codec: SpecCodec,
  ) {}

  private readonly definitions = new Map<string, ResourceDefinition>();

  /** Resolves the type (aliases included) to its definition and the canonical pointer. */
  locate(pointer: Pointer, field = 'metadata'): Located {
    const def = this.definitions.get(pointer.type) ?? this.resolve(checkName(`${field}.type`, pointer.type));
    const canonical = { namespace: checkName(`${field}.namespace`, pointer.namespace), type: def.type, id: checkName(`${field}.id`, pointer.id) };
    return { def, pointer: canonical, what: formatPointer(canonical) };
  }

  create(ctx: WriteContext, resource: NewResource, owner: string): Resource {
    const { def, pointer, what } = this.locate(resource.metadata);
    const spec = def.validate(resource.spec);
    const json = specJson(spec);
    const metadata: Metadata = {
      ...pointer,
      version: 1,
      owner,
      phase: 'running',
      created: ctx.now,
      updated: ctx.now,
      labels: checkStringMap('metadata.labels', resource.metadata.labels),
      annotations: checkStringMap('metadata.annotations', resource.metadata.annotations),
      finalizers: checkFinalizers('metadata.finalizers', resource.metadata.finalizers),
    };
    if (this.row(pointer)) throw new AlreadyExistsError(what);
    const meta = JSON.stringify(metadata);
    const stored = this.codec.encode(json, def.sensitive, what);
    this.rows.insert(pointer, { version: 1, owner, phase: 'running', meta, spec: stored });
    this.append(ctx, 'created', pointer, meta, stored, null, def.sensitive);
    return { metadata, spec };
  }

  update(ctx: WriteContext, resource: Resource, options: UpdateOptions): Resource {
    const { def, pointer, what } = this.locate(resource.metadata);
    const expected = checkVersion('metadata.version', resource.metadata.version);
    const spec = def.validate(resource.spec);
    const json = specJson(spec);
    const labels = resource.metadata.labels === undefined ? undefined : checkStringMap('metadata.labels', resource.metadata.labels);
    const annotations =
      resource.metadata.annotations === undefined ? undefined : checkStringMap('metadata.annotations', resource.metadata.annotations);
    const row = this.existing(pointer, what);
    this.checkOwner(row, what, options.owner ?? '');
    if (row.version !== expected) throw new ConflictError(what, expected, row.version);
    if (row.phase === 'tearingDown' && !options.allowTearingDown) {
      throw new PhaseConflictError(what, 'is tearing down: it can only be updated by its owner with allowTearingDown, or destroyed');
    }
    const old = JSON.parse(row.meta) as Metadata;
    const metadata: Metadata = {
      ...old,
      version: row.version + 1,
      updated: ctx.now,
      labels: labels ?? old.labels,
      annotations: annotations ?? old.annotations,
    };
    this.replace(ctx, def, pointer, row, metadata, this.codec.encode(json, def.sensitive, what));
    return { metadata, spec };
  }

  destroy(ctx: WriteContext, target: Pointer, owner: string, expectedVersion: number | undefined): Resource {
    const { def, pointer, what } = this.locate(target, 'pointer');
    const row = this.existing(pointer, what);
    this.checkOwner(row, what, owner);
    if (expectedVersion !== undefined && row.version !== expectedVersion) throw new ConflictError(what, expectedVersion, row.version);
    const current = this.codec.resource(row.meta, row.spec, pointer);
    const pending = current.metadata.finalizers;
    if (pending.length > 0) {
      throw new PhaseConflictError(what, `has pending finalizers (${pending.join(', ')}): wait until they are removed, then destroy it`);
    }
    this.rows.remove(pointer);
    // A destroyed secret is not kept in the history: its event says which resource went, not what it held.
    const gone = def.sensitive ? this.codec.encode('null', true, what) : row.spec;
    this.append(ctx, 'destroyed', pointer, row.meta, gone, null, def.sensitive);
    return current;
  }

  /** Moves to tearingDown (once); returns whether no finalizers are left. */
  teardown(ctx: WriteContext, target: Pointer, owner: string): boolean {
    const { def, pointer, what } = this.locate(target, 'pointer');
    const row = this.existing(pointer, what);
    this.checkOwner(row, what, owner);
    const old = JSON.parse(row.meta) as Metadata;
    if (row.phase !== 'tearingDown') {
      this.replace(ctx, def, pointer, row, { ...old, phase: 'tearingDown', version: row.version + 1, updated: ctx.now }, row.spec);
    }
    return old.finalizers.length === 0;
  }

  /** Finalizers are added by whoever depends on the resource, so no owner check; none may be added while tearing down. */
  addFinalizers(ctx: WriteContext, target: Pointer, finalizers: string[]): Resource {
    const { def, pointer, what } = this.locate(target, 'pointer');
    const wanted = checkFinalizers('finalizers', finalizers);
    const row = this.existing(pointer, what);
    const old = JSON.parse(row.meta) as Metadata;
    const missing = wanted.filter((f) => !old.finalizers.includes(f));
    if (missing.length === 0) return this.codec.resource(row.meta, row.spec, pointer);
    if (row.phase === 'tearingDown') throw new PhaseConflictError(what, `is tearing down: finalizer ${missing.join(', ')} cannot be added`);
    return this.changeFinalizers(ctx, def, pointer, row, old, [...old.finalizers, ...missing]);
  }

  removeFinalizers(ctx: WriteContext, target: Pointer, finalizers: string[]): Resource {
    const { def, pointer, what } = this.locate(target, 'pointer');
    const unwanted = checkFinalizers('finalizers', finalizers);
    const row = this.existing(pointer, what);
    const old = JSON.parse(row.meta) as Metadata;
    const kept = old.finalizers.filter((f) => !unwanted.includes(f));
    if (kept.length === old.finalizers.length) return this.codec.resource(row.meta, row.spec, pointer);
    return this.changeFinalizers(ctx, def, pointer, row, old, kept);
  }

  private resolve(type: string): ResourceDefinition {
    const def = this.registry.resolve(type);
    this.definitions.set(type, def);
    return def;
  }

  row(pointer: Pointer): ResourceRow | undefined {
    return this.rows.row(pointer);
  }

  private changeFinalizers(ctx: WriteContext, def: ResourceDefinition, pointer: Pointer, row: ResourceRow, old: Metadata, finalizers: string[]): Resource {
    const metadata: Metadata = { ...old, finalizers, version: row.version + 1, updated: ctx.now };
    const spec = this.codec.decode(row.spec, pointer);
    this.replace(ctx, def, pointer, row, metadata, row.spec);
    return { metadata, spec };
  }

  private existing(pointer: Pointer, what: string): ResourceRow {
    const row = this.row(pointer);
    if (!row) throw new NotFoundError(what);
    return row;
  }

  private checkOwner(row: ResourceRow, what: string, writer: string): void {
    if (row.owner !== writer) throw new OwnerConflictError(what, row.owner, writer);
  }

  private replace(ctx: WriteContext, def: ResourceDefinition, pointer: Pointer, row: ResourceRow, metadata: Metadata, stored: StoredSpec): void {
    const meta = JSON.stringify(metadata);
    this.rows.replace(pointer, { version: metadata.version, owner: row.owner, phase: metadata.phase, meta, spec: stored }, row.version);
    this.append(ctx, 'updated', pointer, meta, stored, row, def.sensitive);
  }

  /** The event keeps the previous metadata, but never a sensitive type's previous spec (a superseded secret). */
  private append(ctx: WriteContext, kind: EventKind, p: Pointer, meta: string, spec: StoredSpec, old: ResourceRow | null, sensitive: boolean): void {
    const revision = ++ctx.revision;
    const oldMeta = old ? old.meta : null;
    const oldSpec = old && !sensitive ? old.spec : null;
    const event: EventRow = { revision, kind, namespace: p.namespace, type: p.type, id: p.id, meta, spec, old_meta: oldMeta, old_spec: oldSpec };
    this.rows.append(event);
    ctx.events.push(event);
  }
}
