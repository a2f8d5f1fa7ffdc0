// What `token create` asks for, checked before anything is made: a lifetime, a number of uses, and the names the
// token is bound to. Each problem names the field as the caller wrote it (`--ttl` on the command line, `ttlSeconds` in
// the API) and what is accepted.
import { hostnameProblem } from '../../config/subject-alt-name.js';
import { ipFamily } from '../../pki/index.js';

export interface JoinTokenRequest {
  ttlSeconds?: number;
  uses?: number;
  nodeIPs?: string[];
  hostname?: string;
}

export const DEFAULT_JOIN_TOKEN_TTL_SECONDS = 3600;
export const MIN_JOIN_TOKEN_TTL_SECONDS = 60;
export const MAX_JOIN_TOKEN_TTL_SECONDS = 8760 * 3600;
export const MAX_JOIN_TOKEN_USES = 10_000;
export const MAX_JOIN_TOKEN_NODE_IPS = 64;

export interface CheckedJoinTokenRequest {
  ttlSeconds: number;
  uses: number;
  nodeIPs: string[];
  hostname?: string;
}

/** How the caller names each field in its messages. */
export type JoinTokenFieldNames = Record<keyof JoinTokenRequest, string>;

export const API_FIELD_NAMES: JoinTokenFieldNames = { ttlSeconds: 'ttlSeconds', uses: 'uses', nodeIPs: 'nodeIPs', hostname: 'hostname' };

export class JoinTokenRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JoinTokenRequestError';
  }
}

/** The request with its defaults, or JoinTokenRequestError naming the first bad field. */
export function checkJoinTokenRequest(request: Record<string, unknown>, names: JoinTokenFieldNames = API_FIELD_NAMES): CheckedJoinTokenRequest {
  const fail = (field: keyof JoinTokenRequest, problem: string): never => {
    throw new JoinTokenRequestError(`${names[field]}: ${problem}`);
  };
  const known = Object.keys(API_FIELD_NAMES);
  const unknown = Object.keys(request).find((k) => !known.includes(k));
  if (unknown !== undefined) throw new JoinTokenRequestError(`${JSON.stringify(unknown)} is not a join token field: expected ${known.join(', ')}`);
  const { ttlSeconds = DEFAULT_JOIN_TOKEN_TTL_SECONDS, uses = 1, nodeIPs = [], hostname } = request;
  if (typeof ttlSeconds !== 'number' || !Number.isInteger(ttlSeconds) || ttlSeconds < MIN_JOIN_TOKEN_TTL_SECONDS || ttlSeconds > MAX_JOIN_TOKEN_TTL_SECONDS) {
    fail('ttlSeconds', `expected a lifetime from 1m to 8760h (${MIN_JOIN_TOKEN_TTL_SECONDS}-${MAX_JOIN_TOKEN_TTL_SECONDS} seconds), got ${show(ttlSeconds)}`);
  }
  if (typeof uses !== 'number' || !Number.isInteger(uses) || uses < 1 || uses > MAX_JOIN_TOKEN_USES) {
    fail('uses', `expected a whole number of uses from 1 to ${MAX_JOIN_TOKEN_USES}, got ${show(uses)}`);
  }
  if (!Array.isArray(nodeIPs)) return fail('nodeIPs', `expected a list of IP addresses, got ${show(nodeIPs)}`);
  if (nodeIPs.length > MAX_JOIN_TOKEN_NODE_IPS) fail('nodeIPs', `at most ${MAX_JOIN_TOKEN_NODE_IPS} addresses, got ${nodeIPs.length}`);
  for (const ip of nodeIPs as unknown[]) {
    // A zone (fe80::1%eth0) names an interface of the asking host, never part of a certificate's address.
    if (typeof ip !== 'string' || ipFamily(ip) === 0 || ip.includes('%')) fail('nodeIPs', `expected an IP address such as 10.0.0.7, got ${show(ip)}`);
  }
  if (hostname !== undefined) {
    const problem = typeof hostname === 'string' ? hostnameProblem(hostname) : `expected a host name, got ${show(hostname)}`;
    if (problem) fail('hostname', problem);
  }
  return {
    ttlSeconds: ttlSeconds as number,
    uses: uses as number,
    nodeIPs: [...new Set((nodeIPs as string[]).map(canonicalIp))],
    ...(hostname !== undefined ? { hostname: (hostname as string).toLowerCase() } : {}),
  };
}

/** One spelling per address (`::ffff:a00:7` and `0:0::ffff:10.0.0.7` compare equal), so bindings compare as text. */
export function canonicalIp(ip: string): string {
  if (ipFamily(ip) !== 6) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}...` : text;
}
