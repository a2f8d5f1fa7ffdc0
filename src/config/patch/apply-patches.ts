// Applies patches in order to a machine config and validates the result before anyone stores it. Bad input throws a
// PatchError naming the patch and the place in it; a result that fails validation throws with every problem listed.
import { isDeepStrictEqual } from 'node:util';
import { isMap, parseAllDocuments } from 'yaml';
import type { Document, Node } from 'yaml';
import { MachineConfig } from '../machine-config.js';
import { machineConfigProblems } from '../machine-config-validate.js';
import type { ValidateOptions } from '../machine-config-validate.js';
import { extractDeletes } from './delete-directives.js';
import { applyJsonPatch } from './json6902.js';
import type { MachineConfigPatch, StrategicMergePatch } from './patch.js';
import { PatchError } from './patch-error.js';
import { checkPatchedSize, yamlSize } from './patch-limits.js';
import { pkiShapeProblem } from './pki-shape.js';
import { applyStrategicMerge } from './strategic-merge.js';

export interface PatchResult {
  config: MachineConfig;
  /** False when the patches leave every value as it was (comments and formatting do not count). */
  changed: boolean;
}

/** The patched config was well-formed YAML but is not a valid machine config; `problems` lists what to fix. */
export class PatchedConfigInvalid extends Error {
  constructor(readonly problems: readonly string[]) {
    const head = problems.length === 1 ? 'a problem' : `${problems.length} problems`;
    super(`the patched machine config has ${head}; fix the patches and try again (nothing was stored):\n${problems.map((p) => `\t* ${p}`).join('\n')}`);
    this.name = 'PatchedConfigInvalid';
  }
}

const YAML_OUT = { indent: 4, lineWidth: 0 } as const;

/** `options.now`: the time the patched config's CAs must be valid at (every caller that stores the result gives it). */
export function applyPatches(config: MachineConfig, patches: readonly MachineConfigPatch[], options: ValidateOptions = {}): PatchResult {
  const yaml = config.toYaml();
  const patched = MachineConfig.parse(patchYaml(yaml, patches), 'the patched machine config');
  const problems = machineConfigProblems(patched, options);
  if (problems.length > 0) throw new PatchedConfigInvalid(blame(yaml, patches, problems, options));
  return { config: patched, changed: !isDeepStrictEqual(config.toJS(), patched.toJS()) };
}

/**
 * Prefixes each problem with the patch that brought it in (replaying the patches one at a time, which only a failed
 * apply pays for), or says it was already in the config.
 */
function blame(yaml: string, patches: readonly MachineConfigPatch[], problems: readonly string[], options: ValidateOptions): string[] {
  const origin = new Map<string, string>();
  const seen = (text: string) => new Set(machineConfigProblems(MachineConfig.parse(text), options));
  let text = yaml;
  for (const p of seen(text)) origin.set(p, 'already in the config before patching');
  for (const patch of patches) {
    text = patchYaml(text, [patch]);
    for (const p of seen(text)) if (!origin.has(p)) origin.set(p, patch.source);
  }
  return problems.map((p) => {
    const from = origin.get(p);
    return from === undefined ? p : from.startsWith('already') ? `${p} (${from})` : `${from}: ${p}`;
  });
}

/** The patching alone, on YAML text (any documents, no validation): what the upstream fixtures exercise. */
export function patchYaml(yaml: string, patches: readonly MachineConfigPatch[]): string {
  const docs = parseAllDocuments(yaml) as Document[];
  for (const patch of patches) {
    if (patch.kind === 'strategic') {
      checkStrategicShapes(patch);
      applyStrategicMerge(docs, patch);
      checkPatchedSize(patch.source, docs.reduce((n, d) => n + yamlSize(d.contents), 0));
      checkResultShape(docs, patch.source);
    } else {
      applyJsonPatch(docs, patch, (doc, where) => checkResultShape([doc], where));
    }
  }
  return render(docs);
}

function checkStrategicShapes(patch: StrategicMergePatch): void {
  for (const doc of patch.documents) {
    if (doc.has('kind')) continue;
    // `$patch: delete` is a directive, not a value (`certSANs: {$patch: delete}` is no map where a list belongs): like
    // upstream, take the directives out before judging what is left.
    const values = doc.clone();
    extractDeletes(values, patch.source, patch.lines);
    const problem = pkiShapeProblem(values.contents as Node | null, patch.lines);
    if (problem) throw new PatchError(`${patch.source}${problem.line ? ` line ${problem.line}` : ''}: ${problem.pointer}`, problem.problem);
  }
}

/** A backstop for what the patch alone cannot show (a JSON patch value, a list made by merging). */
function checkResultShape(docs: readonly Document[], where: string): void {
  const v1alpha1 = docs.find((d) => isMap(d.contents) && !d.has('kind'));
  const problem = v1alpha1 && pkiShapeProblem(v1alpha1.contents as Node | null);
  if (problem) throw new PatchError(`${where}: ${problem.pointer}`, problem.problem);
}

function render(docs: readonly Document[]): string {
  return docs
    .map((d, i) => {
      const text = d.toString(YAML_OUT);
      return i === 0 || text.startsWith('---') ? text : `---\n${text}`;
    })
    .join('');
}
