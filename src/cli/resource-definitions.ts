// `trustctl get rd` (resourcedefinitions): the resource types this build knows, each with its aliases, its default
// namespace and whether it is sensitive (encrypted at rest, readable over the API by os:admin only), as Talos lists
// its ResourceDefinitions. The types are compiled in, so the listing comes from the CLI's own registry: no store is
// opened and no node is asked.
import type { Resource, ResourceDefinition, ResourceRegistry } from '../runtime/resource.js';
import { UnsupportedTypeError } from '../runtime/errors.js';

export interface ResourceDefinitionSpec {
  type: string;
  aliases: string[];
  defaultNamespace: string;
  sensitivity: 'sensitive' | 'non-sensitive';
}

const spec = (r: Resource<ResourceDefinitionSpec>) => r.spec;

export const ResourceDefinitions: ResourceDefinition<ResourceDefinitionSpec> = {
  type: 'ResourceDefinitions',
  aliases: ['resourcedefinition', 'resourcedefinitions', 'rd', 'rds'],
  namespace: 'meta',
  sensitive: false,
  printColumns: [
    { name: 'ALIASES', value: (r) => spec(r).aliases.join(',') },
    { name: 'DEFAULT NAMESPACE', value: (r) => spec(r).defaultNamespace },
    { name: 'SENSITIVE', value: (r) => (spec(r).sensitivity === 'sensitive' ? 'yes' : 'no') },
  ],
  validate: () => {
    throw new Error('ResourceDefinitions are built into trustplane; they are listed, never stored');
  },
};

export function isResourceDefinitionsName(name: string): boolean {
  const key = name.toLowerCase();
  return key === ResourceDefinitions.type.toLowerCase() || ResourceDefinitions.aliases.includes(key);
}

/** One resource per type (this one included), sorted by type; `id` (a type or any alias) picks one. */
export function resourceDefinitions(registry: ResourceRegistry, id?: string, now = new Date()): Resource<ResourceDefinitionSpec>[] {
  const all: ResourceDefinition[] = [...registry.all(), ResourceDefinitions];
  const chosen = id === undefined ? all : [isResourceDefinitionsName(id) ? ResourceDefinitions : resolveOrSay(registry, id)];
  const at = now.toISOString();
  return chosen
    .sort((a, b) => a.type.localeCompare(b.type))
    .map((def) => ({
      metadata: { namespace: 'meta', type: ResourceDefinitions.type, id: def.type, version: 1, owner: '', phase: 'running', created: at, updated: at, labels: {}, annotations: {}, finalizers: [] },
      spec: { type: def.type, aliases: [...def.aliases], defaultNamespace: def.namespace, sensitivity: def.sensitive ? 'sensitive' : 'non-sensitive' },
    }));
}

function resolveOrSay(registry: ResourceRegistry, id: string): ResourceDefinition {
  try {
    return registry.resolve(id);
  } catch (err) {
    if (err instanceof UnsupportedTypeError) throw new Error(`resource definition ${JSON.stringify(id)} not found: \`trustctl get rd\` lists every type and its aliases`);
    throw err;
  }
}
