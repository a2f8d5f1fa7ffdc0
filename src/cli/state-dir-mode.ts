// A state directory others can write to lets them replace the store or its key beside a running node. serve tightens
// it to 0700 before opening anything and reports that it did (a SecurityStatus finding), since whoever could write
// there may already have; a shared directory (sticky, like /tmp) or one it cannot change is refused.
import { chmodSync, statSync } from 'node:fs';
import type { Finding } from '../resources/security-status.js';

export function tightenStateDir(stateDir: string): Finding | undefined {
  const mode = statSync(stateDir).mode;
  if ((mode & 0o022) === 0) return undefined;
  const shown = (mode & 0o7777).toString(8).padStart(4, '0');
  if (mode & 0o1000) {
    throw new Error(`state directory "${stateDir}" is a shared directory (mode ${shown}): give serve a directory of its own with --state`);
  }
  try {
    chmodSync(stateDir, 0o700);
  } catch (err) {
    throw new Error(`state directory "${stateDir}" is writable by others (mode ${shown}) and could not be tightened (${(err as NodeJS.ErrnoException).code ?? String(err)}): run chmod 700 "${stateDir}" as its owner`);
  }
  return {
    severity: 'warning',
    code: 'StateDirWritableByOthers',
    subject: stateDir,
    message: `the state directory was writable by others (mode ${shown}); serve tightened it to 0700. Whoever could write there could have replaced the store or its key: if unsure, restore from a snapshot you trust`,
  };
}
