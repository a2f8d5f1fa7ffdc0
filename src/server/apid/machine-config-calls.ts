// apply-config and patch over the API (os:admin): the new config is validated in full before anything is written, a
// config equal to the stored one is not written again, and a dry run returns both texts for the caller's masked diff.
import { isDeepStrictEqual } from 'node:util';
import { machineConfigProblems, parseMachineConfig } from '../../config/index.js';
import { configChangeDetailsOf, configDocuments } from '../../controllers/audit/index.js';
import type { AuditSink } from '../../controllers/audit/index.js';
import type { MachineConfig } from '../../config/index.js';
import { certificateImpact, formatCertificateImpact } from '../../controllers/impact/index.js';
import { NODE_ADDRESSES_ID } from '../../controllers/node-addresses-controller.js';
import { NodeAddresses } from '../../resources/node-addresses.js';
import type { NodeAddressesSpec } from '../../resources/node-addresses.js';
import { MACHINE_CONFIG_ID, MachineConfigs } from '../../resources/machine-config.js';
import type { MachineConfigSpec } from '../../resources/machine-config.js';
import type { Clock } from '../../runtime/clock.js';
import type { Pointer, Resource } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';
import { ApiError } from './api-error.js';
import { callActor, callSource } from './call-actor.js';
import type { MachineConfigChange } from './api-paths.js';
import { patchMachineConfig } from './machine-config-patch.js';
import type { PatchText } from './machine-config-patch.js';
import { readJsonBody, requirePermission } from './router.js';
import type { CallContext } from './router.js';

const POINTER: Pointer = { namespace: MachineConfigs.namespace, type: MachineConfigs.type, id: MACHINE_CONFIG_ID };

export function machineConfigCalls(state: State, clock: Clock, audit: AuditSink) {
  return {
    async apply(ctx: CallContext): Promise<MachineConfigChange> {
      requirePermission(ctx, 'admin');
      const body = await readJsonBody<{ yaml?: unknown; dryRun?: unknown }>(ctx.req);
      if (typeof body.yaml !== 'string' || !body.yaml.trim()) throw new ApiError(400, 'yaml: expected the machine config text');
      return write({ state, clock, audit, ctx, via: 'apply-config' }, () => body.yaml as string, body.dryRun === true);
    },
    async patch(ctx: CallContext): Promise<MachineConfigChange> {
      requirePermission(ctx, 'admin');
      const body = await readJsonBody<{ patches?: unknown; dryRun?: unknown }>(ctx.req);
      const patches = patchTexts(body.patches);
      return write(
        { state, clock, audit, ctx, via: 'patch' },
        (current) => {
          if (!current) throw new ApiError(404, 'the node holds no machine config to patch: apply one first (trustctl apply-config -f FILE)');
          return patchMachineConfig(current.spec.yaml, patches).yaml;
        },
        body.dryRun === true,
      );
    },
  };
}

/** Computes the new text from the stored config, validates it, and writes it unless unchanged or a dry run. */
interface WriteContext {
  state: State;
  clock: Clock;
  audit: AuditSink;
  ctx: CallContext;
  /** How the change came: apply-config or patch. */
  via: string;
}

async function write(w: WriteContext, next: (current: Resource<MachineConfigSpec> | undefined) => string, dryRun: boolean): Promise<MachineConfigChange> {
  const { state, clock } = w;
  const current = await state.find<MachineConfigSpec>(POINTER);
  const yaml = next(current);
  const config = parseMachineConfig(yaml, 'machine config');
  const problems = machineConfigProblems(config, { now: new Date(clock.now().toMillis()) });
  if (problems.length > 0) throw new ApiError(400, `the machine config has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}; nothing was applied:\n${problems.map((p) => `\t* ${p}`).join('\n')}`);
  // Each config parsed once: the comparison and the audit record's changed fields both read these.
  const after = config.toJS();
  const before = current && current.spec.yaml !== yaml ? configDocuments(current.spec.yaml) : undefined;
  const changed = !current || (before !== undefined && !isDeepStrictEqual(before, after));
  const version = current?.metadata.version ?? 0;
  if (dryRun) return { changed, version, before: current?.spec.yaml ?? '', after: yaml, ...(await dryRunImpact(state, current, config)) };
  if (!changed) return { changed, version };
  // CAS on the version read above: a concurrent change makes this call fail (409) rather than silently overwrite it.
  const written = current ? await state.update<MachineConfigSpec>({ ...current, spec: { yaml } }) : await state.create<MachineConfigSpec>({ metadata: POINTER, spec: { yaml } });
  void w.audit.record({ actor: callActor(w.ctx), source: callSource(w.ctx), action: 'machine-config-changed', details: { ...configChangeDetailsOf(w.via, before, after), version: written.metadata.version } });
  return { changed, version: written.metadata.version };
}

/** What the controllers would re-issue, judged on this node's own addresses (a forwarded call runs on the node asked). */
async function dryRunImpact(state: State, current: Resource<MachineConfigSpec> | undefined, after: MachineConfig): Promise<Pick<MachineConfigChange, 'impact' | 'impactNote'>> {
  const node = await state.find<NodeAddressesSpec>({ namespace: NodeAddresses.namespace, type: NodeAddresses.type, id: NODE_ADDRESSES_ID });
  let before: MachineConfig | undefined;
  try {
    before = current ? parseMachineConfig(current.spec.yaml, 'the stored machine config') : undefined;
  } catch {
    before = undefined; // an unreadable stored config: everything would be issued anew, which is what the impact says
  }
  const impact = formatCertificateImpact(certificateImpact(before, after, node?.spec ?? { addresses: [], hostname: 'localhost' }));
  return node ? { impact } : { impact, impactNote: "the node's addresses are not known yet; SANs from them are not compared" };
}

/** `patches`: a list of texts, or of {source, text} so errors name the caller's file. */
function patchTexts(value: unknown): PatchText[] {
  const bad = () => new ApiError(400, 'patches: expected a list of patch texts (strategic merge documents or JSON patches), or of {source, text}');
  if (!Array.isArray(value) || value.length === 0) throw bad();
  return value.map((p: unknown, i) => {
    if (typeof p === 'string') return { source: value.length > 1 ? `patch ${i + 1}` : 'patch', text: p };
    if (p && typeof p === 'object' && typeof (p as PatchText).text === 'string' && typeof (p as PatchText).source === 'string') return p as PatchText;
    throw bad();
  });
}
