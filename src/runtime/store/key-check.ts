// A store that seals keeps one value sealed with its key, so a wrong key is refused when the store opens, before
// anything is read or written, rather than surfacing later as an IntegrityError on some secret.
import type { SecretBox } from '../encryption/secret-box.js';
import type { StoredSpec } from './rows.js';

export const KEY_CHECK = 'key-check';
const KEY_CHECK_TEXT = 'trustplane state key check';

export function sealKeyCheck(box: SecretBox): Buffer {
  return box.seal(KEY_CHECK_TEXT, KEY_CHECK);
}

/** Whether `stored` is the key check sealed with this box's key. */
export function keyCheckOpens(box: SecretBox, stored: StoredSpec | undefined): boolean {
  return Buffer.isBuffer(stored) && box.open(stored, KEY_CHECK) === KEY_CHECK_TEXT;
}
