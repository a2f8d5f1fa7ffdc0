// apply-config and patch over the API, on each node (`-n`) or the endpoint itself. The file or patches are read and
// checked here first, so a bad input never reaches a node; each node validates again before it writes.
import { readFileSync } from 'node:fs';
import { inCwd } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { loadPatches, parseMachineConfig } from '../config/index.js';
import { paths } from '../server/apid/index.js';
import type { MachineConfigChange, PatchText } from '../server/apid/index.js';
import { connectApi } from './api-client.js';
import type { RemoteTarget } from './api-client.js';
import { machineConfigDiff } from './config-diff.js';
import { impactSection } from './impact-section.js';
import type { MachineConfigFile } from './machine-config-file.js';

export const SKIPPED_LINE = 'Apply was skipped: no changes detected.';

/** PUT /v1/machineconfig on every node. */
export async function remoteApplyConfig(file: MachineConfigFile, dryRun: boolean, target: RemoteTarget, io: CliIo): Promise<void> {
  await onEachNode(target, 'PUT', { yaml: file.yaml, dryRun }, dryRun, 'Applied', file.path, io);
}

/** PATCH /v1/machineconfig on every node; `args` are --patch values (@FILE or inline text). */
export async function remotePatch(args: readonly string[], dryRun: boolean, target: RemoteTarget, io: CliIo): Promise<void> {
  const texts = new Map<string, string>();
  const parsed = loadPatches(args, (path) => {
    const text = readFileSync(inCwd(io, path), 'utf8');
    texts.set(path, text);
    return text;
  });
  const patches: PatchText[] = parsed.map((p, i) => ({ source: p.source, text: texts.get(p.source) ?? args[i] }));
  await onEachNode(target, 'PATCH', { patches, dryRun }, dryRun, 'Patched', `patched (${parsed.map((p) => p.source).join(', ')})`, io);
}

async function onEachNode(target: RemoteTarget, method: string, body: object, dryRun: boolean, verb: string, afterLabel: string, io: CliIo): Promise<void> {
  const { client, nodes } = await connectApi(target, io);
  try {
    const asked = nodes.length > 0 ? nodes : [undefined];
    for (const node of asked) {
      const prefix = node ? `${node}: ` : '';
      try {
        const change = await client.call<MachineConfigChange>(method, paths.machineConfig, { body, ...(node ? { node } : {}) });
        io.stdout.write(report(change, dryRun, verb, prefix, afterLabel));
      } catch (err) {
        io.stderr.write(`error: ${prefix}${(err as Error).message}\n`);
        io.exitCode = 1;
      }
    }
  } finally {
    client.close();
  }
}

function report(change: MachineConfigChange, dryRun: boolean, verb: string, prefix: string, afterLabel: string): string {
  if (!change.changed) return `${prefix}${SKIPPED_LINE}\n`;
  if (!dryRun) return `${prefix}${verb} configuration: MachineConfigs config/v1alpha1 is now at version ${change.version}.\n`;
  const before = change.before ? parseMachineConfig(change.before, 'the stored machine config') : undefined;
  const after = parseMachineConfig(change.after ?? '', 'the new machine config');
  const diff = machineConfigDiff(before, after, { before: before ? `stored MachineConfigs config/v1alpha1 version ${change.version}` : 'stored (none)', after: afterLabel });
  const impact = change.impact ? `\n${impactSection(change.impact, change.impactNote).join('\n')}\n` : '';
  return `${prefix}Dry run summary:\nThe configuration would be ${verb === 'Applied' ? 'applied' : 'patched'} (skipped in dry-run).\n\nConfig diff:\n\n${diff}${impact}`;
}
