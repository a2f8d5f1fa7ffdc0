// PUT /v1/extraacceptedcas/:ca (os:admin): sets the CAs a control plane trusts for etcd or the aggregator besides the
// machine config's one (ExtraAcceptedCAs). The rotation driver calls it on every control plane to open and close a
// rotation's overlap. An empty list removes the resource; a list equal to the stored one writes nothing.
import { EXTRA_ACCEPTED_CA_IDS, ExtraAcceptedCAs } from '../../resources/extra-accepted-cas.js';
import type { ExtraAcceptedCAId, ExtraAcceptedCAsSpec } from '../../resources/extra-accepted-cas.js';
import type { Pointer } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';
import { ApiError } from './api-error.js';
import type { ExtraAcceptedCAsChange } from './api-paths.js';
import { readJsonBody, requirePermission } from './router.js';
import type { CallContext } from './router.js';

export function extraAcceptedCAsCall(state: State) {
  return async (ctx: CallContext): Promise<ExtraAcceptedCAsChange> => {
    requirePermission(ctx, 'admin');
    const id = ctx.params.ca as ExtraAcceptedCAId;
    if (!EXTRA_ACCEPTED_CA_IDS.includes(id))
      throw new ApiError(404, `no extra accepted CAs for "${ctx.params.ca}": only ${EXTRA_ACCEPTED_CA_IDS.join(' and ')} (the Talos API and Kubernetes CAs have machine.acceptedCAs and cluster.acceptedCAs)`);
    const body = await readJsonBody<Partial<ExtraAcceptedCAsSpec>>(ctx.req);
    if (!Array.isArray(body.crts) || body.crts.some((c) => typeof c !== 'string')) throw new ApiError(400, 'crts: expected a list of PEM CA certificates ([] to trust none besides the machine config CA)');
    if (typeof body.reason !== 'string' || !body.reason.trim()) throw new ApiError(400, 'reason: expected a few words on why these CAs are trusted');
    const spec: ExtraAcceptedCAsSpec = { crts: body.crts.map((c) => c.trim() + '\n'), reason: body.reason.trim() };
    const pointer: Pointer = { namespace: ExtraAcceptedCAs.namespace, type: ExtraAcceptedCAs.type, id };
    const current = await state.find<ExtraAcceptedCAsSpec>(pointer);
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
