// Bootstrap/trustd tokens (`abcdef.0123456789abcdef`) and random secrets, from the system CSPRNG.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
// 252 is the largest multiple of 36 below 256: rejecting bytes >= 252 keeps every character equally likely.
const LIMIT = 252;

export const TOKEN_PATTERN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;

export function randomTokenString(length: number, source: (n: number) => Buffer = randomBytes): string {
  let out = '';
  while (out.length < length) {
    for (const byte of source(length * 2)) {
      if (byte >= LIMIT) continue;
      out += ALPHABET[byte % ALPHABET.length];
      if (out.length === length) break;
    }
  }
  return out;
}

export function randomToken(source?: (n: number) => Buffer): string {
  return `${randomTokenString(6, source)}.${randomTokenString(16, source)}`;
}

export function isToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

/** Undefined for a well-formed token, else the problem (never the value: tokens are secrets). */
export function tokenProblem(value: string): string | undefined {
  if (!value) return 'is required (a token like abcdef.0123456789abcdef)';
  if (!isToken(value)) return 'expected a token like abcdef.0123456789abcdef ([a-z0-9]{6}.[a-z0-9]{16}), got a value of another shape';
  return undefined;
}

/** 32 random bytes in standard base64 (cluster secret, secretbox key). */
export function randomSecret(size = 32): string {
  return randomBytes(size).toString('base64');
}

/** 32 random bytes in URL-safe base64 with padding, as Talos encodes the cluster id. */
export function randomClusterId(size = 32): string {
  return randomBytes(size).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
