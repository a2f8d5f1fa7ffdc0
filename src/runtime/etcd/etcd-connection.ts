// One etcd client per store: every unary call gets a deadline, so a partitioned or paused etcd surfaces as an
// UnavailableError the caller can retry instead of a call that hangs forever.
import { ConstantBackoff, handleWhen, noop, retry } from 'cockatiel';
import type { IPolicy } from 'cockatiel';
import { Etcd3, isRecoverableError } from 'etcd3';
import type { ICompare, IKeyValue, IOptions, IRequestOp, ITxnResponse, WatchBuilder } from 'etcd3';
import { UnavailableError, isStateError } from '../errors.js';
import { guardWatchResponses } from './watch-response-guard.js';

guardWatchResponses();

export interface ConnectionOptions {
  hosts: string[];
  /** Deadline of each unary call (default 5 s). */
  callTimeoutMs?: number;
}

/**
 * The client's default policies retry three times and then stop calling a host for 5 s after failures (a circuit
 * breaker), which hides an outage behind delays and keeps refusing for seconds after etcd is back. Here a failed call
 * fails at once as UnavailableError and the caller's own backoff (the runtime's) decides when to retry; a call is
 * only tried on the next endpoint when one does not answer.
 */
function policy(attempts: number): IPolicy {
  return attempts <= 1 ? noop : retry(handleWhen(isRecoverableError), { maxAttempts: attempts - 1, backoff: new ConstantBackoff(0) });
}

const passThrough = policy(1);

function tryEachHost(hosts: number): IPolicy {
  return policy(Math.max(1, hosts));
}

type WatchBackoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

/**
 * How soon a broken watch stream reconnects: 100 ms, doubling to at most 2 s. The client's default grows to 30 s, so
 * after an etcd outage watches (and the controllers they wake) could lag behind for that long.
 */
function watchBackoff(ms: number): WatchBackoff {
  return { duration: ms, next: () => watchBackoff(Math.min(ms * 2, 2000)) } as WatchBackoff;
}

export class EtcdConnection {
  readonly client: Etcd3;
  private readonly where: string;
  private closed = false;

  constructor(options: ConnectionOptions) {
    const timeout = options.callTimeoutMs ?? 5000;
    this.where = options.hosts.map((h) => h.replace(/^https?:\/\//, '')).join(',');
    this.client = new Etcd3({
      hosts: options.hosts,
      dialTimeout: timeout,
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
      faultHandling: { host: () => passThrough, global: tryEachHost(options.hosts.length), watchBackoff: watchBackoff(50) },
    });
  }

  async txn(compare: ICompare[], success: IRequestOp[], failure: IRequestOp[] = []): Promise<ITxnResponse> {
    try {
      return await this.client.kv.txn({ compare, success, failure });
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /** Reads several ranges at one revision (a read-only transaction is a consistent snapshot). */
  async read(ranges: { key: Buffer; end?: Buffer; limit?: number }[]): Promise<{ revision: string; kvs: IKeyValue[][] }> {
    const res = await this.txn(
      [],
      ranges.map((r) => ({ request_range: { key: r.key, range_end: r.end, limit: r.limit } })),
    );
    return { revision: res.header.revision, kvs: res.responses.map((op) => op.response_range.kvs) };
  }

  /** Any failure to reach etcd, as the State layer reports it. */
  unavailable(err: unknown): Error {
    if (isStateError(err)) return err;
    const detail = err instanceof Error ? err.message : String(err);
    return new UnavailableError(`etcd at ${this.where}: ${detail}: check that etcd is running and reachable, then retry`);
  }

  /** A new watch; refused once closed, since a watch attached to a closed client would re-dial forever. */
  watch(): WatchBuilder {
    if (this.closed) throw new UnavailableError(`etcd client for ${this.where} is closed`);
    return this.client.watch();
  }

  close(): void {
    this.closed = true;
    // etcd3's watch manager re-dials for as long as it has watchers, even after close(); a watch cancelled while etcd
    // is unreachable never detaches; and one whose cancel is still in flight keeps the watch stream, and with it a
    // socket, open after close() (seen: a stopped replica that never exits). Forget the watchers and end the stream
    // so a closed client leaves nothing running. etcd3 keeps both in private fields; if that ever changes, this does
    // nothing and the backoff above bounds the cost.
    const manager = watchManagerOf(this.client);
    if (manager) {
      manager.watchers.length = 0;
      manager.stream?.cancel();
    }
    this.client.close();
  }
}

interface PrivateWatchManager {
  watchers: unknown[];
  stream?: { cancel(): void };
}

/** etcd3's watch manager, read defensively: each private field is checked before it is used. */
function watchManagerOf(client: Etcd3): PrivateWatchManager | undefined {
  const manager: unknown = Reflect.get(client, 'watchManager');
  if (typeof manager !== 'object' || manager === null) return undefined;
  const watchers: unknown = Reflect.get(manager, 'watchers');
  if (!Array.isArray(watchers)) return undefined;
  const stream: unknown = Reflect.get(manager, 'stream');
  const cancel: unknown = typeof stream === 'object' && stream !== null ? Reflect.get(stream, 'cancel') : undefined;
  return { watchers, ...(typeof cancel === 'function' ? { stream: { cancel: () => void Reflect.apply(cancel, stream, []) } } : {}) };
}
