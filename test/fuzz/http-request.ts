// One raw HTTPS request with any method, path, headers and body text, on a fresh connection, for the route fuzzers.
// A streamed answer (a watch) is cut after its headers: its status is the verdict.
import https from 'node:https';

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
