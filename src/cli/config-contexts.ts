// `trustctl config contexts` (list), `config context NAME` (make current) and `config merge FILE` (bring in another
// talosconfig's contexts, renaming clashes): the commands over the set of contexts as a whole.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { inCwd } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { load, located, save, withTalosconfigOption } from './talosconfig-file.js';
import type { Located } from './talosconfig-file.js';

export function registerConfigContextsCommands(config: Command, io: CliIo): void {
  withTalosconfigOption(config.command('contexts').alias('get-contexts'))
    .description('List defined contexts')
    .action((_opts: unknown, cmd: Command) => configContexts(located(cmd), io));

  withTalosconfigOption(config.command('context').alias('use-context'))
    .description('Set the current context')
    .argument('<name>', 'the context to make current')
    .action((name: string, _opts: unknown, cmd: Command) => configUseContext(name, located(cmd), io));
}

export function registerConfigMergeCommand(config: Command, io: CliIo): void {
  withTalosconfigOption(config.command('merge'))
    .description('Merge the contexts of another talosconfig into this one (clashing names are renamed name-1, name-2 ...)')
    .argument('<file>', 'the talosconfig to merge in')
    .action((file: string, _opts: unknown, cmd: Command) => configMerge(file, located(cmd), io));
}

export async function configContexts(where: Located, io: CliIo): Promise<void> {
  const { config } = await load(where, io);
  const rows = [['CURRENT', 'NAME', 'ENDPOINTS', 'NODES']];
  for (const name of Object.keys(config.contexts).sort()) {
    const ctx = config.contexts[name];
    const nodes = ctx.nodes.length > 3 ? `${ctx.nodes.slice(0, 3).join(',')}...` : ctx.nodes.join(',');
    rows.push([name === config.context ? '*' : '', name, ctx.endpoints.join(','), nodes]);
  }
  io.stdout.write(tabulate(rows));
}

/** Columns padded like Go's tabwriter with padding 3 (what talosctl uses). */
function tabulate(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] + 3))).join('').trimEnd() + '\n').join('');
}

export async function configUseContext(name: string, where: Located, io: CliIo): Promise<void> {
  const { selectContext } = await import('../config/index.js');
  const { path, config } = await load(where, io);
  selectContext(config, name);
  await save(path, { ...config, context: name }, io);
}

export async function configMerge(file: string, where: Located, io: CliIo): Promise<void> {
  const { mergeTalosconfig, parseTalosconfig } = await import('../config/index.js');
  let text: string;
  try {
    text = await readFile(inCwd(io, file), 'utf8');
  } catch (err) {
    throw new Error(`cannot read "${file}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const other = parseTalosconfig(text, file);
  const { path, config } = await load(where, io);
  const { merged, renames } = mergeTalosconfig(config, other);
  await save(path, merged, io);
  for (const r of renames) io.stderr.write(`renamed talosconfig context "${r.from}" -> "${r.to}"\n`);
}
