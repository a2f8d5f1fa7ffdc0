// GET /v1/logs/:service[?tail=N][&follow=true]: a service's recent log lines as newline-delimited JSON
// (`{"line": "..."}` each), then, when following, each new line as it is logged until the caller goes away. A reader
// that stops reading is dropped with an `{"error": ...}` line rather than buffered without end.
import type { ServiceLogs } from '../service-logs.js';
import { SERVICE_NAMES, isServiceName } from '../service-logs.js';
import { ApiError } from './api-error.js';
import type { LogLine } from './api-paths.js';
import { STREAMED } from './router.js';
import type { CallContext } from './router.js';

const MAX_BUFFERED_BYTES = 4 << 20;
const MAX_TAIL = 1_000_000;

export function logsCall(logs: ServiceLogs | undefined) {
  return async (ctx: CallContext): Promise<typeof STREAMED> => {
    const service = ctx.params.service;
    if (!isServiceName(service)) throw new ApiError(404, `no service ${JSON.stringify(service)}: the services with logs are ${SERVICE_NAMES.join(', ')}`);
    const tail = parseTail(ctx.query.get('tail'));
    const follow = parseFollow(ctx.query.get('follow'));
    if (!logs) throw new ApiError(404, 'this node keeps no service logs (it is not run by trustctl serve)');
    const ring = logs.of(service);
    const { res } = ctx;
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    const text = (line: LogLine) => `${JSON.stringify(line)}\n`;
    const backlog = ring.tail(tail).map((line) => text({ line })).join('');
    if (!follow) {
      res.end(backlog);
      return STREAMED;
    }
    res.write(backlog);
    return new Promise((resolve) => {
      const stop = ring.follow((line) => {
        res.write(text({ line }));
        if (res.writableLength > MAX_BUFFERED_BYTES) {
          res.end(text({ error: `the log stream fell ${res.writableLength} bytes behind its reader; ask again with --tail` }));
          finish();
        }
      });
      const finish = () => {
        stop();
        resolve(STREAMED);
      };
      res.on('close', finish);
    });
  };
}

function parseTail(value: string | null): number | undefined {
  if (value === null || value === '' || value === '-1') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > MAX_TAIL) throw new ApiError(400, `tail: expected a number of lines 0-${MAX_TAIL} (or -1 for all), got ${JSON.stringify(value)}`);
  return n;
}

function parseFollow(value: string | null): boolean {
  if (value === null || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new ApiError(400, `follow: expected true or false, got ${JSON.stringify(value)}`);
}
