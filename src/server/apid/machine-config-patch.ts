// Applies patches to a machine config: strategic merge (a partial config document) or RFC 6902 (a JSON array, or a
// YAML list of ops). A stand-in until src/config's patch module lands: callers use patchMachineConfig only.
import jsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { parse } from 'yaml';
import { ConfigError, MachineConfig } from '../../config/index.js';

/** Subnet lists replace rather than append, as upstream's merge does. */
const REPLACED_LISTS = new Set(['podSubnets', 'serviceSubnets']);

export function patchMachineConfig(yaml: string, patches: readonly string[]): string {
  const config = MachineConfig.parse(yaml, 'stored machine config');
  const docs = config.toJS() as Record<string, unknown>[];
  for (const [i, text] of patches.entries()) {
    const where = patches.length > 1 ? `patch ${i + 1}` : 'patch';
    let value: unknown;
    try {
      value = parse(text);
    } catch (err) {
      throw new ConfigError(where, `invalid YAML or JSON: ${(err as Error).message}`);
    }
    if (Array.isArray(value)) {
      if (docs.length > 1) throw new ConfigError(where, 'JSON6902 patches are not supported for multi-document machine configuration');
      docs[0] = applyJson6902(docs[0], value as Operation[], where);
    } else if (value && typeof value === 'object') {
      const target = targetDocument(docs, value as Record<string, unknown>);
      const merged = merge(docs[target], value, where);
      if (merged === DELETE) docs.splice(target, 1);
      else docs[target] = merged as Record<string, unknown>;
    } else {
      throw new ConfigError(where, 'expected a config document (strategic merge) or a list of JSON patch operations');
    }
  }
  if (docs.length === 0) throw new ConfigError('patch', 'the patch deletes every document; a machine config needs its v1alpha1 document');
  const [first, ...others] = docs;
  return MachineConfig.fromObjects(first, others).toYaml();
}

function applyJson6902(doc: Record<string, unknown>, ops: Operation[], where: string): Record<string, unknown> {
  for (const [i, op] of ops.entries()) {
    try {
      doc = jsonPatch.applyOperation(doc, op, true, true, false).newDocument as Record<string, unknown>;
    } catch (err) {
      const path = (op as { path?: string }).path ?? '';
      throw new ConfigError(`${where} op ${i} (${String((op as { op?: string }).op)} ${path})`, firstLine((err as Error).message));
    }
  }
  return doc;
}

/** The document a strategic merge patch addresses: the one of the same kind (and name), else v1alpha1. */
function targetDocument(docs: Record<string, unknown>[], patch: Record<string, unknown>): number {
  if (!patch.kind) return 0;
  const i = docs.findIndex((d) => d.kind === patch.kind && (patch.name === undefined || d.name === patch.name));
  if (i < 0) throw new ConfigError('patch', `no document of kind ${JSON.stringify(patch.kind)} to patch`);
  return i;
}

const DELETE = Symbol('delete');

function merge(base: unknown, patch: unknown, path: string, key = ''): unknown {
  if (isMap(patch)) {
    if (patch.$patch === 'delete') return DELETE;
    const out: Record<string, unknown> = isMap(base) ? { ...base } : {};
    for (const [k, v] of Object.entries(patch)) {
      if (k === '$patch') continue;
      const merged = merge(out[k], v, `${path}.${k}`, k);
      if (merged === DELETE) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  if (Array.isArray(patch) && Array.isArray(base) && !REPLACED_LISTS.has(key)) {
    const deletes = patch.filter((item) => isMap(item) && item.$patch === 'delete') as Record<string, unknown>[];
    const kept = base.filter((item) => !deletes.some((d) => sameItem(item, d)));
    return [...kept, ...patch.filter((item) => !(isMap(item) && item.$patch === 'delete'))];
  }
  return patch;
}

/** A `$patch: delete` list item matches by its first other key. */
function sameItem(item: unknown, del: Record<string, unknown>): boolean {
  const key = Object.keys(del).find((k) => k !== '$patch');
  return key !== undefined && isMap(item) && item[key] === del[key];
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const firstLine = (s: string) => s.split('\n')[0];
