// The resource model shared by every layer: metadata as COSI/Kubernetes define it, a plain-data spec, and the
// definition that tells the store how to validate, print and protect a type.
import { UnsupportedTypeError } from './errors.js';

export type Phase = 'running' | 'tearingDown';

export interface Metadata {
  namespace: string;
  type: string;
  id: string;
  /** 1 on create, +1 per update. */
  version: number;
  /** The controller that wrote it last; '' for a user (CLI, API). */
  owner: string;
  phase: Phase;
  /** ISO-8601 timestamps from the store's clock. */
  created: string;
  updated: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  finalizers: string[];
}

export interface Resource<Spec = unknown> {
  metadata: Metadata;
  spec: Spec;
}

/** What a caller supplies to create a resource; the store fills in version, owner, phase and times. */
export interface NewResource<Spec = unknown> {
  metadata: Pick<Metadata, 'namespace' | 'type' | 'id'> & Partial<Pick<Metadata, 'labels' | 'annotations' | 'finalizers'>>;
  spec: Spec;
}

export interface Pointer {
  namespace: string;
  type: string;
  id: string;
}

export interface Kind {
  namespace: string;
  type: string;
}

export interface PrintColumn<Spec> {
  name: string;
  // Method syntax on purpose: it keeps ResourceDefinition<Spec> assignable to ResourceDefinition<unknown>.
  value(resource: Resource<Spec>): string;
}

export interface ResourceDefinition<Spec = unknown> {
  /** Canonical type name, e.g. `CertificateStatuses`. */
  type: string;
  /** Lower-case names a user may type instead: singular, plural, initials. */
  aliases: string[];
  /** Namespace where resources of this type live by default. */
  namespace: string;
  /** Sensitive specs are encrypted at rest and readable over the API by os:admin only. */
  sensitive: boolean;
  printColumns: PrintColumn<Spec>[];
  /** Returns the spec when valid; throws ValidationError naming the field otherwise. */
  validate(spec: unknown): Spec;
}

export function pointerOf(resource: { metadata: Pointer }): Pointer {
  const { namespace, type, id } = resource.metadata;
  return { namespace, type, id };
}

export function formatPointer(p: Pointer): string {
  return `${p.namespace}/${p.type}/${p.id}`;
}

export function defineResource<Spec>(definition: ResourceDefinition<Spec>): ResourceDefinition<Spec> {
  return definition;
}

/** Resolves type names and aliases case-insensitively to definitions. */
export class ResourceRegistry {
  private readonly byName = new Map<string, ResourceDefinition>();
  private readonly definitions: ResourceDefinition[] = [];

  constructor(definitions: Iterable<ResourceDefinition> = []) {
    for (const d of definitions) this.register(d);
  }

  register(def: ResourceDefinition): void {
    for (const name of [def.type, ...def.aliases]) {
      const key = name.toLowerCase();
      const existing = this.byName.get(key);
      if (existing && existing !== def) throw new Error(`resource name "${name}" is used by both ${existing.type} and ${def.type}`);
      this.byName.set(key, def);
    }
    if (!this.definitions.includes(def)) this.definitions.push(def);
  }

  /** Finds a definition by type or alias; throws UnsupportedTypeError (`resource type "X" is not supported`). */
  resolve(name: string): ResourceDefinition {
    const def = this.byName.get(name.toLowerCase());
    if (!def) throw new UnsupportedTypeError(name);
    return def;
  }

  has(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }

  all(): readonly ResourceDefinition[] {
    return this.definitions;
  }
}
