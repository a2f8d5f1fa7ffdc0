// What every `trustctl config ...` subcommand shares: the --talosconfig flag, where the file is (--talosconfig,
// $TALOSCONFIG, ~/.talos/config) and reading and writing it. The talosconfig codec loads only when a command runs.
import type { Command } from 'commander';
import type { Talosconfig } from '../config/index.js';
import { inCwd } from './cli-io.js';
import type { CliPlace } from './cli-io.js';

export interface Located {
  talosconfig?: string;
  context?: string;
}

export function withTalosconfigOption(cmd: Command): Command {
  return cmd.option('--talosconfig <path>', 'the talosconfig to use (default: $TALOSCONFIG, then ~/.talos/config)');
}

/** --talosconfig and --context, wherever on the command line they were given. */
export function located(cmd: Command): Located {
  const all = cmd.optsWithGlobals<Located>();
  return { talosconfig: all.talosconfig, context: all.context };
}

/** The talosconfig at --talosconfig, $TALOSCONFIG or ~/.talos/config (empty when the file does not exist yet). */
export async function load(where: Located, place: CliPlace): Promise<{ path: string; config: Talosconfig }> {
  const { readTalosconfigFile, resolveTalosconfigPath } = await import('../config/index.js');
  const path = resolveTalosconfigPath(where.talosconfig, place.env);
  return { path, config: await readTalosconfigFile(path, inCwd(place, path)) };
}

export async function save(path: string, config: Talosconfig, place: CliPlace): Promise<void> {
  const { formatTalosconfig } = await import('../config/index.js');
  const { writeFileAtomic } = await import('./files.js');
  await writeFileAtomic({ path: inCwd(place, path), data: formatTalosconfig(config), mode: 0o600 });
}
