// Compact JWS tokens (RFC 7515/7519) signed with the service-account key, as kube-apiserver signs
// service-account tokens: RS256 for RSA keys, ES256 for P-256, EdDSA for Ed25519.
import { verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { CASigner } from './ca-signer.js';
import { memorySigner, syncSignerOf } from './ca-signer.js';
import { PkiError } from './errors.js';
import type { KeyPair } from './keys.js';
import { algorithmOf } from './keys.js';

export type JwtAlgorithm = 'RS256' | 'ES256' | 'EdDSA';

export interface JwtHeader {
  alg: JwtAlgorithm;
  typ?: string;
  kid?: string;
}

export type JwtClaims = Record<string, unknown> & { exp?: number; nbf?: number; iat?: number; iss?: string; sub?: string; aud?: string | string[] };

export interface VerifyJwtOptions {
  /** Default: now; compared with exp and nbf. */
  at?: Date;
  /** When given, `aud` must contain it. */
  audience?: string;
  /** When given, `iss` must equal it. */
  issuer?: string;
}

export function jwtAlgorithmFor(key: KeyObject): JwtAlgorithm {
  const algorithm = algorithmOf(key);
  if (algorithm === 'rsa') return 'RS256';
  if (algorithm === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new PkiError('InvalidKey', 'JWT key: ES256 needs a P-256 key');
  return 'ES256';
}

export function signJwt(key: KeyPair, claims: JwtClaims, header: { kid?: string } = {}): string {
  const signer = memorySigner(key);
  const input = signingInput(signer, claims, header);
  return `${input}.${b64url(syncSignerOf(signer)(Buffer.from(input), 'ieee-p1363'))}`;
}

/** signJwt through any signer: a service-account key held in a PKCS#11 token signs here. */
export async function signJwtWith(signer: CASigner, claims: JwtClaims, header: { kid?: string } = {}): Promise<string> {
  const input = signingInput(signer, claims, header);
  return `${input}.${b64url(await signer.sign(Buffer.from(input), 'ieee-p1363'))}`;
}

function signingInput(signer: CASigner, claims: JwtClaims, header: { kid?: string }): string {
  const h: JwtHeader = { alg: jwtAlgorithmFor(signer.publicKey), typ: 'JWT', ...(header.kid ? { kid: header.kid } : {}) };
  return `${b64url(JSON.stringify(h))}.${b64url(JSON.stringify(claims))}`;
}

/** Checks the signature with `publicKey` (the algorithm must be the one that key signs with), then exp, nbf, aud, iss. */
export function verifyJwt(token: string, publicKey: KeyObject, options: VerifyJwtOptions = {}): { header: JwtHeader; claims: JwtClaims } {
  const parts = token.split('.');
  if (parts.length !== 3) throw new PkiError('InvalidJwt', 'JWT: expected three dot-separated parts');
  const header = decodeJson(parts[0], 'header') as unknown as JwtHeader;
  const expected = jwtAlgorithmFor(publicKey);
  if (header.alg !== expected) throw new PkiError('InvalidJwt', `JWT: algorithm "${String(header.alg)}" does not match the key (expected ${expected})`);
  const ok = verify(digestOf(expected), Buffer.from(`${parts[0]}.${parts[1]}`), dsaOptions(publicKey, expected), Buffer.from(parts[2], 'base64url'));
  if (!ok) throw new PkiError('InvalidJwt', 'JWT: invalid signature');
  const claims = decodeJson(parts[1], 'claims') as JwtClaims;
  const now = Math.floor((options.at ?? new Date()).getTime() / 1000);
  if (typeof claims.exp === 'number' && now >= claims.exp) throw new PkiError('InvalidJwt', `JWT: expired at ${new Date(claims.exp * 1000).toISOString()}`);
  if (typeof claims.nbf === 'number' && now < claims.nbf) throw new PkiError('InvalidJwt', `JWT: not valid before ${new Date(claims.nbf * 1000).toISOString()}`);
  if (options.audience !== undefined) {
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(options.audience)) throw new PkiError('InvalidJwt', `JWT: audience does not include "${options.audience}"`);
  }
  if (options.issuer !== undefined && claims.iss !== options.issuer) throw new PkiError('InvalidJwt', `JWT: issuer is "${String(claims.iss)}", expected "${options.issuer}"`);
  return { header, claims };
}

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');
const digestOf = (alg: JwtAlgorithm) => (alg === 'EdDSA' ? null : 'sha256');
/** JWS wants ECDSA signatures as raw r||s, not DER. */
const dsaOptions = (key: KeyObject, alg: JwtAlgorithm) => (alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key);

function decodeJson(part: string, what: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  throw new PkiError('InvalidJwt', `JWT: the ${what} is not a base64url JSON object`);
}
