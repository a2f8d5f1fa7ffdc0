// Where a local node keeps its store, and the checks that turn "no such store" into a message saying how to make one.
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { inCwd, processPlace } from './cli-io.js';
import type { CliPlace } from './cli-io.js';

import { DEFAULT_STATE_DIR, STATE_DIR_ENV, STORE_FILE } from './constants.js';

export const STATE_OPTION_HELP = `the node's state directory (default: $${STATE_DIR_ENV}, else ~/.trustplane/state)`;

/** --state, else $TRUSTPLANE_STATE_DIR, else ~/.trustplane/state; always absolute so messages name one place. */
export function resolveStateDir(flag: string | undefined, place: CliPlace = processPlace()): string {
  const chosen = flag ?? place.env[STATE_DIR_ENV] ?? join(place.env.HOME || homedir(), ...DEFAULT_STATE_DIR);
  return inCwd(place, chosen);
}

export function storePath(stateDir: string): string {
  return join(stateDir, STORE_FILE);
}

export function storeExists(stateDir: string): boolean {
  return existsSync(storePath(stateDir));
}

/** Refuses a state directory that holds no store yet, saying how to create one (readers must not create stores). */
export function requireStore(stateDir: string): void {
  const create = `create it with: trustctl serve --config controlplane.yaml --state ${quoteArg(stateDir)} --once`;
  if (!existsSync(stateDir)) throw new Error(`state directory "${stateDir}" does not exist; ${create}`);
  if (!statSync(stateDir).isDirectory()) throw new Error(`state directory "${stateDir}" is not a directory; pass --state DIR`);
  if (!storeExists(stateDir)) throw new Error(`state directory "${stateDir}" holds no store (${STORE_FILE}); ${create}`);
}

function quoteArg(text: string): string {
  return /^[\w./~:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
