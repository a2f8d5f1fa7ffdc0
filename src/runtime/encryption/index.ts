export { SecretBox, KEY_BYTES } from './secret-box.js';
export { loadStateKey, keyFilePath, STATE_KEY_ENV } from './state-key.js';
export type { StateKeySource, LoadedKey } from './state-key.js';
