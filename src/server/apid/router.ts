// A small method + path router: `:name` segments become params. Each route declares the permissions a call needs (so
// they can be checked before a call is forwarded to another node, where the handler would check them). Handlers return
// a JSON body (sent with 200) or STREAMED when they wrote the response themselves.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './api-error.js';
import { NOT_AUTHORIZED, allows } from './authorization.js';
import type { Permission } from './authorization.js';
import type { ClientIdentity } from './client-verification.js';
import { JsonBodyError, parseJsonObject } from '../json-object.js';

export const STREAMED = Symbol('streamed');

/** A handler's answer that is JSON text already (a cached listing): sent as it is. */
export class JsonText {
  constructor(readonly text: string) {}
}

export interface CallContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  identity: ClientIdentity;
  /** The roles the call acts with (an impersonator's are those it forwards). */
  roles: string[];
}

export type Handler = (ctx: CallContext) => Promise<unknown>;

/** The permissions a call needs, from its path params (a sensitive resource type needs readSensitive too). */
export type Needs = (params: Record<string, string>) => readonly Permission[];

export interface Route {
  method: string;
  segments: string[];
  needs: Needs;
  handler: Handler;
  /** A watch stream: counted against the watch limits while open. */
  watch: boolean;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, needs: Needs | Permission, handler: Handler, options: { watch?: boolean } = {}): this {
    this.routes.push({ method, segments: pattern.split('/').slice(1), needs: typeof needs === 'string' ? () => [needs] : needs, handler, watch: options.watch === true });
    return this;
  }

  /** The route and params for a request, or an ApiError (404 no such call, 405 wrong method). */
  match(method: string, path: string): { route: Route; params: Record<string, string> } {
    const parts = path.split('/').slice(1);
    let pathMatched = false;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === method) return { route, params };
      pathMatched = true;
    }
    if (pathMatched) throw new ApiError(405, `method ${method} is not allowed on ${path}`);
    throw new ApiError(404, `no such call: ${method} ${path}`);
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith(':')) {
      if (!parts[i]) return undefined;
      params[p.slice(1)] = decodeSegment(parts[i]);
    } else if (p !== parts[i]) return undefined;
  }
  return params;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(400, `path segment ${JSON.stringify(segment)}: malformed percent-encoding (a % must be followed by two hex digits; write a literal % as %25)`);
  }
}

export function requirePermission(ctx: { roles: readonly string[] }, permission: Permission): void {
  if (!allows(ctx.roles, permission)) throw new ApiError(403, NOT_AUTHORIZED);
}

/** Throws 403 `not authorized` unless `roles` grant every permission the route needs. */
export function requireRoute(route: Route, params: Record<string, string>, roles: readonly string[]): void {
  for (const permission of route.needs(params)) requirePermission({ roles }, permission);
}

const MAX_BODY = 4 << 20;

/** The body as a JSON object (a 400 names what is wrong: empty, not JSON, not an object, a `__proto__` key). */
export async function readJsonBody<T>(req: IncomingMessage): Promise<T> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ApiError(413, `request body is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  try {
    return parseJsonObject(Buffer.concat(chunks).toString('utf8')) as T;
  } catch (err) {
    if (err instanceof JsonBodyError) throw new ApiError(400, `request body ${err.message}`);
    throw err;
  }
}
