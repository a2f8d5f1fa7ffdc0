// get and list of any resource type by name or alias; sensitive types (secrets, MachineConfig) for os:admin only.
// Answers are kept as JSON text per store revision: a repeated read (dashboards, `get -w` re-lists, monitoring) at an
// unchanged revision costs one revision lookup instead of a store read, decode and serialization.
import { AuditHeads, AuditRecords } from '../../resources/audit-records.js';
import type { ResourceDefinition, ResourceRegistry } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';
import type { CallContext } from './router.js';
import type { Permission } from './authorization.js';
import { JsonText, requirePermission } from './router.js';

const AUDIT_TYPES: ReadonlySet<string> = new Set([AuditRecords.type, AuditHeads.type]);

/** What reading a type takes beyond `read`: readSensitive for secrets, audit for the audit trail. */
export function readPermissions(def: ResourceDefinition): Permission[] {
  return ['read', ...(def.sensitive ? (['readSensitive'] as const) : []), ...(AUDIT_TYPES.has(def.type) ? (['audit'] as const) : [])];
}

/** Resolves the type (unknown: `resource type "X" is not supported`) and checks the caller may read it. */
export function readableDefinition(ctx: CallContext, registry: ResourceRegistry): ResourceDefinition {
  requirePermission(ctx, 'read');
  const def = registry.resolve(ctx.params.type);
  for (const permission of readPermissions(def)) requirePermission(ctx, permission);
  return def;
}

const CACHE_ENTRIES = 256;

/** JSON answers by (namespace, type, id); an entry is good only for the revision it was read at. */
class AnswerCache {
  private readonly entries = new Map<string, { revision: number; text: string }>();

  /**
   * The revision is read before the store, so a write landing in between leaves an answer newer than its tag: the
   * next call misses and reads again. An answer older than its tag cannot happen.
   */
  async answer(state: State, key: string, read: () => Promise<unknown>): Promise<JsonText> {
    const revision = await state.revision();
    const hit = this.entries.get(key);
    if (hit && hit.revision === revision) return new JsonText(hit.text);
    const text = JSON.stringify(await read());
    if (this.entries.size >= CACHE_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { revision, text });
    return new JsonText(text);
  }
}

export function resourceCalls(state: State, registry: ResourceRegistry) {
  const cache = new AnswerCache();
  return {
    async list(ctx: CallContext): Promise<unknown> {
      const def = readableDefinition(ctx, registry);
      const kind = { namespace: ctx.query.get('namespace') || def.namespace, type: def.type };
      return cache.answer(state, `${kind.namespace}\0${kind.type}`, () => state.list(kind));
    },
    async get(ctx: CallContext): Promise<unknown> {
      const def = readableDefinition(ctx, registry);
      const pointer = { namespace: ctx.query.get('namespace') || def.namespace, type: def.type, id: ctx.params.id };
      return cache.answer(state, `${pointer.namespace}\0${pointer.type}\0${pointer.id}`, () => state.get(pointer));
    },
  };
}
