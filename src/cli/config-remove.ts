// `trustctl config remove PATTERN`: removes the contexts a name or `*` pattern matches, asking for each unless -y;
// the current context is never removed. Nothing is written on --dry-run or when nothing was removed.
import type { Interface, ReadLineOptions } from 'node:readline';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { load, located, save, withTalosconfigOption } from './talosconfig-file.js';
import type { Located } from './talosconfig-file.js';

export interface RemoveOptions {
  noconfirm?: boolean;
  dryRun?: boolean;
}

export function registerConfigRemoveCommand(config: Command, io: CliIo): void {
  withTalosconfigOption(config.command('remove'))
    .description('Remove contexts by name or pattern (* matches any characters); the current context is never removed')
    .argument('<context>', 'context name or pattern')
    .option('-y, --noconfirm', 'do not ask for confirmation')
    .option('--dry-run', 'say what would be removed, change nothing')
    .action((pattern: string, opts: RemoveOptions, cmd: Command) => configRemove(pattern, opts, located(cmd), io));
}

/** Removes the contexts `pattern` matches (`*` matches any run of characters), asking for each unless -y. */
export async function configRemove(pattern: string, opts: RemoveOptions, where: Located, io: CliIo): Promise<void> {
  if (!pattern) throw new Error('config remove: no context specified');
  const { path, config } = await load(where, io);
  if (Object.keys(config.contexts).length === 0) throw new Error(`config remove: talosconfig "${path}" has no contexts`);
  const matcher = globToRegExp(pattern);
  const matches = Object.keys(config.contexts).filter((name) => matcher.test(name)).sort();
  if (matches.length === 0) throw new Error(`config remove: no contexts matched ${JSON.stringify(pattern)} (defined: ${Object.keys(config.contexts).sort().join(', ')})`);
  const contexts = { ...config.contexts };
  let removed = 0;
  const prompt = opts.noconfirm ? undefined : new Prompt(io, createInterface);
  try {
    for (const name of matches) {
      if (name === config.context) {
        io.stderr.write(`skipping removal of current context "${name}": switch to another one first (trustctl config context NAME)\n`);
        continue;
      }
      if (!prompt) io.stderr.write(`removing context "${name}"\n`);
      else if (!(await prompt.confirm(`remove context "${name}"?`))) continue;
      delete contexts[name];
      removed++;
    }
  } finally {
    prompt?.close();
  }
  if (opts.dryRun || removed === 0) return;
  await save(path, { ...config, contexts }, io);
}

function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/**
 * Questions on stderr, answers from stdin, one line each. One reader serves every question: a reader per question
 * would swallow the answers piped in after its own.
 */
class Prompt {
  private readonly rl: Interface;
  private readonly lines: AsyncIterator<string>;

  constructor(
    private readonly io: CliIo,
    createInterface: (options: ReadLineOptions) => Interface,
  ) {
    this.rl = createInterface({ input: io.stdin, terminal: false });
    this.lines = this.rl[Symbol.asyncIterator]();
  }

  /** Anything but y/yes (or no answer at all) is a no. */
  async confirm(question: string): Promise<boolean> {
    this.io.stderr.write(`${question} [y/N]: `);
    const next = await this.lines.next();
    if (next.done) this.io.stderr.write('\n');
    return !next.done && /^y(es)?$/i.test(next.value.trim());
  }

  close(): void {
    this.rl.close();
  }
}
