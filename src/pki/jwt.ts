// Compact JWS tokens signed with the service-account key, as kube-apiserver signs service-account tokens.
import type { KeyObject } from 'node:crypto';
import type { KeyPair } from './keys.js';

export type JwtAlgorithm = 'RS256' | 'ES256' | 'EdDSA';

export interface JwtHeader {
  alg: JwtAlgorithm;
  typ?: string;
  kid?: string;
}

export type JwtClaims = Record<string, unknown> & { exp?: number; nbf?: number; iat?: number; iss?: string; sub?: string; aud?: string | string[] };

export interface VerifyJwtOptions {
  at?: Date;
  audience?: string;
  issuer?: string;
}

export function signJwt(_key: KeyPair, _claims: JwtClaims, _header: { kid?: string } = {}): string {
  throw new Error('signJwt: not implemented yet');
}

export function verifyJwt(_token: string, _publicKey: KeyObject, _options: VerifyJwtOptions = {}): { header: JwtHeader; claims: JwtClaims } {
  throw new Error('verifyJwt: not implemented yet');
}
