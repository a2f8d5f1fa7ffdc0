// One raw HTTPS request with any method, path, headers and body text, on a fresh connection, for the route fuzzers.
// A streamed answer (a watch) is cut after its headers: its status is the verdict.
import https from 'node:https';
import { expect } from 'chai';
import fc from 'fast-check';
import { LONG_RUN } from './fuzz-settings.js';

export interface RawAnswer {
  status: number;
  contentType: string;
  body: string;
}

export interface RawRequest {
  port: number;
  caPem: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  cert?: string;
  key?: string;
}

/** Resolves with the answer; rejects on a socket error (a reset is a failure the fuzzers look for). */
export function rawRequest(r: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port: r.port, method: r.method, path: r.path, ca: r.caPem, agent: false, headers: r.headers ?? {}, ...(r.cert ? { cert: r.cert, key: r.key } : {}) },
      (res) => {
        const status = res.statusCode ?? 0;
        const contentType = String(res.headers['content-type'] ?? '');
        if (contentType.includes('ndjson')) {
          // a watch streams until the client leaves: the status and type are what is judged
          res.destroy();
          resolve({ status, contentType, body: '' });
          return;
        }
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => resolve({ status, contentType, body: data }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

/** A refusal: a 4xx status with a JSON body `{"error": "<non-empty text>"}`. */
export function isJsonRefusal(answer: RawAnswer): boolean {
  if (answer.status < 400 || answer.status >= 500) return false;
  try {
    const body = JSON.parse(answer.body) as { error?: unknown };
    return typeof body.error === 'string' && body.error.length > 0;
  } catch {
    return false;
  }
}

/**
 * An object whose own key `__proto__` holds `value`, as JSON.parse makes it (an assignment would set the prototype
 * instead): JSON.stringify writes the key, so a server reads `{"__proto__": ...}`.
 */
export function withProtoKey(value: unknown, rest: object = {}): object {
  return { ...(JSON.parse(`{"__proto__": ${JSON.stringify(value)}}`) as object), ...rest };
}

/** Any JSON value for a field or a whole body: `null` included, and objects with a `__proto__` key. */
export const jsonBodyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 })).map(([v, rest]) => withProtoKey(v, rest)) },
);

/**
 * How a property's answers spread over statuses. A property none of whose requests was accepted proves nothing about
 * the handler behind the refusals, so `expectSomeAccepted` fails it; a long run prints the spread.
 */
export class StatusTally {
  private readonly counts = new Map<number, number>();

  record(status: number): void {
    this.counts.set(status, (this.counts.get(status) ?? 0) + 1);
  }

  expectSomeAccepted(): void {
    if (LONG_RUN) console.log(`      statuses: ${JSON.stringify(Object.fromEntries(this.counts))}`);
    expect([...this.counts.keys()].some((s) => s < 400), 'no request of this property was accepted').to.equal(true);
  }

  reset(): void {
    this.counts.clear();
  }
}
