// How a record names a join token: a short SHA-256 fingerprint, enough to tell tokens apart and match one a person
// holds (`printf %s TOKEN | sha256sum`), never the token itself.
import { createHash } from 'node:crypto';

export function tokenFingerprint(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 16)}`;
}
