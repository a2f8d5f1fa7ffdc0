// PUT /v1/extraacceptedcas/:ca and PUT /v1/crosssignedcas/:ca (os:admin): set a node's list of CA certificates that
// the machine config has no field for. The rotation driver calls them on each node to open and close a rotation's
// overlap: ExtraAcceptedCAs (etcd, aggregator: also trusted) and CrossSignedCAs (os: sent after apid's certificate).
// An empty list removes the resource; a list equal to the stored one writes nothing.
import type { CAListSpec } from '../../resources/ca-list.js';
import type { ResourceDefinition, Pointer } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';
import { ApiError } from './api-error.js';
import type { CAListChange } from './api-paths.js';
import { readJsonBody, requirePermission } from './router.js';
import type { CallContext } from './router.js';

export interface CAListCallOptions {
  definition: ResourceDefinition<CAListSpec>;
  /** The ids the list exists for; another is refused with `unknown` (which says where that CA's list lives). */
  ids: readonly string[];
  unknown: (id: string) => string;
}

export function caListCall(state: State, options: CAListCallOptions) {
  const { definition, ids } = options;
  return async (ctx: CallContext): Promise<CAListChange> => {
    requirePermission(ctx, 'admin');
    const id = ctx.params.ca;
    if (!ids.includes(id)) throw new ApiError(404, options.unknown(id));
    const body = await readJsonBody<Partial<CAListSpec>>(ctx.req);
    if (!Array.isArray(body.crts) || body.crts.some((c) => typeof c !== 'string')) throw new ApiError(400, 'crts: expected a list of PEM CA certificates ([] for none)');
    if (typeof body.reason !== 'string' || !body.reason.trim()) throw new ApiError(400, 'reason: expected a few words on why these CAs are here');
    const spec: CAListSpec = { crts: body.crts.map((c) => c.trim() + '\n'), reason: body.reason.trim() };
    const pointer: Pointer = { namespace: definition.namespace, type: definition.type, id };
    const current = await state.find<CAListSpec>(pointer);
    if (spec.crts.length === 0) {
      if (current) await state.destroy(pointer, { expectedVersion: current.metadata.version });
      return { changed: current !== undefined };
    }
    if (current && sameList(current.spec.crts, spec.crts)) return { changed: false, version: current.metadata.version };
    // The store validates every certificate (a PEM CA certificate) before anything is written.
    const written = current ? await state.update({ ...current, spec }) : await state.create({ metadata: pointer, spec });
    return { changed: true, version: written.metadata.version };
  };
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((p, i) => p.trim() === b[i].trim());
