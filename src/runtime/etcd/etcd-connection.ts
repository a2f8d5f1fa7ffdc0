// One etcd client per store: every unary call gets a deadline, so a partitioned or paused etcd surfaces as an
// UnavailableError the caller can retry instead of a call that hangs forever.
import { Etcd3 } from 'etcd3';
import type { ICompare, IKeyValue, IRequestOp, ITxnResponse } from 'etcd3';
import { UnavailableError, isStateError } from '../errors.js';

export interface ConnectionOptions {
  hosts: string[];
  /** Deadline of each unary call (default 5 s). */
  callTimeoutMs?: number;
}

export class EtcdConnection {
  readonly client: Etcd3;
  private readonly where: string;

  constructor(options: ConnectionOptions) {
    const timeout = options.callTimeoutMs ?? 5000;
    this.where = options.hosts.map((h) => h.replace(/^https?:\/\//, '')).join(',');
    this.client = new Etcd3({
      hosts: options.hosts,
      dialTimeout: timeout,
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
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

  close(): void {
    this.client.close();
  }
}
