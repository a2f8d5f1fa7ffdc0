// One key per algorithm per test process: RSA generation costs ~0.5 s, and most tests only need some key.
import { generateKeyPairSync } from '../../src/pki/index.js';
import type { KeyAlgorithm, KeyPair } from '../../src/pki/index.js';

const cache = new Map<KeyAlgorithm, KeyPair>();

export function sharedKey(algorithm: KeyAlgorithm): KeyPair {
  let key = cache.get(algorithm);
  if (!key) {
    key = generateKeyPairSync(algorithm);
    cache.set(algorithm, key);
  }
  return key;
}
