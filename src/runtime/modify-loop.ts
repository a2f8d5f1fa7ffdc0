// The read-modify-write loop of State.modify, shared by every backend: read, let the caller decide, write only what
// changed, and start over on a conflict (another writer got there first).
import { isStateError } from './errors.js';
import type { Pointer, Resource, ResourceDefinition } from './resource.js';
import type { ModifyResult, State, UpdateOptions } from './state.js';

const MODIFY_ATTEMPTS = 32;

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export async function modifyLoop<Spec>(
  state: Pick<State, 'find' | 'create' | 'update'>,
  def: ResourceDefinition,
  p: Pointer,
  mutate: (current: Resource<Spec> | undefined) => ModifyResult<Spec> | undefined,
  options: UpdateOptions,
): Promise<Resource<Spec> | undefined> {
  let lastConflict: unknown;
  for (let attempt = 0; attempt < MODIFY_ATTEMPTS; attempt++) {
    const current = await state.find<Spec>(p);
    const result = mutate(current);
    if (result === undefined) return current;
    try {
      if (!current) {
        const metadata = { ...p, labels: result.labels, annotations: result.annotations };
        return await state.create<Spec>({ metadata, spec: result.spec }, options);
      }
      const labels = result.labels ?? current.metadata.labels;
      const annotations = result.annotations ?? current.metadata.annotations;
      const unchanged = (spec: unknown) =>
        sameJson(spec, current.spec) && sameJson(labels, current.metadata.labels) && sameJson(annotations, current.metadata.annotations);
      // Unchanged is the common case for level-triggered controllers; the stored spec is valid, so skip validation.
      if (unchanged(result.spec)) return current;
      const spec = def.validate(result.spec) as Spec;
      // Validation may normalize (key order, defaults): compare again before writing.
      if (unchanged(spec)) return current;
      return await state.update<Spec>({ metadata: { ...current.metadata, labels, annotations }, spec }, options);
    } catch (err) {
      if (!isStateError(err, 'Conflict') && !isStateError(err, 'AlreadyExists') && !isStateError(err, 'NotFound')) throw err;
      lastConflict = err;
    }
  }
  throw lastConflict;
}
