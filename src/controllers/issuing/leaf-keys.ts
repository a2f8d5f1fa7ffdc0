// Where an issuing controller gets the key pair of each certificate it issues. A node makes a fresh key every time;
// `trustctl check` reuses one per key type, because its look-ahead throws every certificate away and a fresh RSA key
// costs ~100 ms (the simulation of a node with an RSA CA spent most of its time making keys no one would use).
import { generateKeyPair } from '../../pki/index.js';
import type { KeyAlgorithm, KeyPair, RsaBits } from '../../pki/index.js';

export type LeafKeySource = (algorithm: KeyAlgorithm, rsaBits?: RsaBits) => Promise<KeyPair>;

export const freshLeafKeys: LeafKeySource = (algorithm, rsaBits) => generateKeyPair(algorithm, rsaBits ? { rsaBits } : {});

/** One key per algorithm and size, made on first use: for simulations only, never for a certificate that is kept. */
export function reusedLeafKeys(): LeafKeySource {
  const made = new Map<string, Promise<KeyPair>>();
  return (algorithm, rsaBits) => {
    const key = `${algorithm}/${rsaBits ?? ''}`;
    let pair = made.get(key);
    if (!pair) {
      pair = freshLeafKeys(algorithm, rsaBits);
      made.set(key, pair);
    }
    return pair;
  };
}
