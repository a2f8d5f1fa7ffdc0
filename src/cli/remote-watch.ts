// `get -w` over the API: follows one node's watch stream and, when the connection drops, reconnects with the last
// bookmark it saw, so no change is missed or printed twice. A bookmark the node no longer holds means listing again.
import { setTimeout as sleep } from 'node:timers/promises';
import type { WatchLine } from '../server/apid/index.js';
import { ApiCallError } from './api-client.js';
import type { ApiClient } from './api-client.js';

export interface FollowHandlers {
  event(line: Exclude<WatchLine, { type: 'error' }>): void;
  /** The stream will start over with a full listing (the node lost the history after our bookmark). */
  reset(reason: string): void;
  reconnecting(reason: string, delayMs: number): void;
}

const MIN_DELAY_MS = 250;
const MAX_DELAY_MS = 5_000;

/**
 * Runs until `stop` aborts. Throws on a refusal (4xx other than 410), which reconnecting would not cure, and when the
 * first connection fails; after that, a lost connection is retried with backoff from the last bookmark.
 */
export async function followWatch(client: ApiClient, path: string, node: string | undefined, handlers: FollowHandlers, stop: AbortSignal): Promise<void> {
  let since: number | undefined;
  let failures = 0;
  // A node that cannot be reached at all is an error to report, not a connection to wait for.
  let connected = false;
  while (!stop.aborted) {
    let lost: string | undefined;
    const url = since === undefined ? path : `${path}${path.includes('?') ? '&' : '?'}since=${since}`;
    const handle = client.watch(
      url,
      (line) => {
        if (line.type === 'error') {
          if (line.code === 'InvalidBookmark') lost = line.error;
          return;
        }
        since = line.bookmark;
        failures = 0;
        connected = true;
        handlers.event(line);
      },
      node ? { node } : {},
    );
    const onAbort = () => handle.close();
    stop.addEventListener('abort', onAbort, { once: true });
    let reason = 'the node ended the watch';
    try {
      await handle.done;
    } catch (err) {
      if (!(err instanceof ApiCallError)) throw err;
      if (err.code === 'InvalidBookmark') lost = err.message;
      else if ((err.status >= 400 && err.status < 500) || !connected) throw err;
      else reason = err.message;
    } finally {
      stop.removeEventListener('abort', onAbort);
    }
    if (stop.aborted) return;
    if (lost !== undefined) {
      since = undefined;
      handlers.reset(lost);
      continue;
    }
    const delay = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** failures++);
    handlers.reconnecting(reason, delay);
    await sleep(delay, undefined, { signal: stop }).catch(() => undefined);
  }
}
