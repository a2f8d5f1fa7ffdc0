// Where the talosconfig lives (--talosconfig, $TALOSCONFIG, ~/.talos/config) and how it is saved (0600 in a 0700 dir).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './config-error.js';
import { parseTalosconfig } from './talosconfig.js';
import type { Talosconfig } from './talosconfig.js';

export function defaultTalosconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TALOSCONFIG) return env.TALOSCONFIG;
  return join(env.HOME || homedir(), '.talos', 'config');
}

export function resolveTalosconfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || defaultTalosconfigPath(env);
}

/**
 * The file's config, or an empty one when it does not exist yet (talosctl creates it on first save). `path` names it in
 * messages as the user gave it; `at` is where it is read (the path made absolute against the command's directory).
 */
export async function readTalosconfigFile(path: string, at: string = path): Promise<Talosconfig> {
  if (!existsSync(at)) return { context: '', contexts: {} };
  let text: string;
  try {
    text = await readFile(at, 'utf8');
  } catch (err) {
    throw new ConfigError(path, `cannot read the talosconfig: ${(err as Error).message}`);
  }
  return parseTalosconfig(text, path);
}
