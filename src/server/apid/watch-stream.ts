// GET /v1/watch/:type[/:id]: a streamed response of newline-delimited JSON events. Without `since` it starts with the
// current resources (`created` each, then `bootstrapped`); with `since=<bookmark>` it resumes after that revision.
// Every event carries its bookmark. A resume point older than the retained history is a 410 before the stream starts,
// or an `error` line (code InvalidBookmark) if it happens later: the client lists again and watches from there.
import type { Subscription } from 'rxjs';
import type { ResourceRegistry } from '../../runtime/resource.js';
import type { State, WatchEvent, WatchKindOptions } from '../../runtime/state.js';
import { ApiError, toApiError } from './api-error.js';
import type { WatchLine } from './api-paths.js';
import { readableDefinition } from './resource-calls.js';
import { STREAMED } from './router.js';
import type { CallContext } from './router.js';

export function watchCall(state: State, registry: ResourceRegistry) {
  return async (ctx: CallContext): Promise<unknown> => {
    const def = readableDefinition(ctx, registry);
    const since = parseSince(ctx.query.get('since'));
    const id = ctx.params.id;
    const options: WatchKindOptions = since === undefined ? { bootstrap: true } : { since };
    if (id !== undefined) options.idPrefix = id;
    const events = state.watchKind({ namespace: ctx.query.get('namespace') || def.namespace, type: def.type }, options);
    const { res } = ctx;

    return new Promise<typeof STREAMED>((resolve, reject) => {
      let started = false;
      let done = false;
      const early: string[] = [];
      // Filled in once subscribe() returns; a stream that ends during subscribe() finds it empty.
      const live: { subscription?: Subscription } = {};
      const finish = () => {
        if (done) return;
        done = true;
        live.subscription?.unsubscribe();
        resolve(STREAMED);
      };
      const send = (line: WatchLine) => {
        if (done) return;
        const text = `${JSON.stringify(line)}\n`;
        if (!started) {
          early.push(text);
          return;
        }
        res.write(text);
        // A reader that stops reading would make us buffer without end: drop it; it resumes from its last bookmark.
        if (res.writableLength > MAX_BUFFERED_BYTES) {
          res.end(`${JSON.stringify({ type: 'error', error: `the watch fell ${res.writableLength} bytes behind its reader; reconnect with since=<last bookmark>` })}\n`);
          finish();
        }
      };
      live.subscription = events.subscribe({
        next: (e: WatchEvent) => {
          if (id !== undefined && e.resource && e.resource.metadata.id !== id) return;
          send(e.resource ? { type: e.type, bookmark: e.bookmark, resource: e.resource } : { type: e.type, bookmark: e.bookmark });
        },
        error: (err: unknown) => {
          const api = toApiError(err);
          if (!started) {
            done = true;
            reject(api);
            return;
          }
          send({ type: 'error', error: api.message, ...(err instanceof Error && 'code' in err ? { code: String(err.code) } : {}) });
          res.end();
          finish();
        },
        complete: () => {
          res.end();
          finish();
        },
      });
      res.on('close', finish);
      // A resume point the store refuses fails at subscribe; give it that turn before committing to a 200.
      setImmediate(() => {
        if (done) return;
        started = true;
        res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
        res.flushHeaders();
        for (const text of early.splice(0)) res.write(text);
      });
    });
  };
}

const MAX_BUFFERED_BYTES = 16 << 20;

function parseSince(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new ApiError(400, `since: expected a bookmark (an integer >= 0), got ${JSON.stringify(value)}`);
  return n;
}
