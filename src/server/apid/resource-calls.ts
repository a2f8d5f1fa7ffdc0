// get and list of any resource type by name or alias; sensitive types (secrets, MachineConfig) for os:admin only.
import type { ResourceDefinition, ResourceRegistry } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';
import type { CallContext } from './router.js';
import { requirePermission } from './router.js';

/** Resolves the type (unknown: `resource type "X" is not supported`) and checks the caller may read it. */
export function readableDefinition(ctx: CallContext, registry: ResourceRegistry): ResourceDefinition {
  requirePermission(ctx, 'read');
  const def = registry.resolve(ctx.params.type);
  if (def.sensitive) requirePermission(ctx, 'readSensitive');
  return def;
}

export function resourceCalls(state: State, registry: ResourceRegistry) {
  return {
    async list(ctx: CallContext): Promise<unknown> {
      const def = readableDefinition(ctx, registry);
      return state.list({ namespace: ctx.query.get('namespace') || def.namespace, type: def.type });
    },
    async get(ctx: CallContext): Promise<unknown> {
      const def = readableDefinition(ctx, registry);
      return state.get({ namespace: ctx.query.get('namespace') || def.namespace, type: def.type, id: ctx.params.id });
    },
  };
}
