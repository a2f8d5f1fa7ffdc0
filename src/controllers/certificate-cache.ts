// Controllers look at the same PEM certificates on every reconcile (status, re-issue checks); parsing one costs ~50 us,
// so keep the parsed objects, bounded, keyed by the PEM text itself.
import { X509Certificate } from 'node:crypto';

const LIMIT = 1024;

export function boundedMemo<V>(compute: (key: string) => V, limit = LIMIT): (key: string) => V {
  const cache = new Map<string, V>();
  return (key) => {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const value = compute(key);
    if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
    cache.set(key, value);
    return value;
  };
}

export const parseCertificate = boundedMemo((pem) => new X509Certificate(pem));
