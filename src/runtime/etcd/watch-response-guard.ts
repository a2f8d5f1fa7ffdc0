// etcd3 1.1 throws "Failed to find watcher for IWatchResponse" from inside its gRPC stream handler when etcd delivers a
// response for a watcher that was just cancelled (a race at shutdown or at a leader's step-down). Thrown there, it is
// an uncaught exception that kills the process. A response for a cancelled watcher carries nothing anyone waits for,
// so it is dropped; every other error still throws.
import { createRequire } from 'node:module';

interface WatchResponse {
  watch_id: string;
}

interface WatchManagerPrototype {
  handleResponse(this: unknown, res: WatchResponse): void;
  trustplaneGuarded?: boolean;
}

const UNKNOWN_WATCHER = 'Failed to find watcher for IWatchResponse';

export function guardWatchResponses(): void {
  const require = createRequire(import.meta.url);
  const { WatchManager } = require('etcd3/lib/watch.js') as { WatchManager: { prototype: WatchManagerPrototype } };
  const proto = WatchManager.prototype;
  if (proto.trustplaneGuarded) return;
  const original = proto.handleResponse;
  proto.handleResponse = function (this: unknown, res: WatchResponse): void {
    try {
      original.call(this, res);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith(UNKNOWN_WATCHER)) return;
      throw err;
    }
  };
  proto.trustplaneGuarded = true;
}
