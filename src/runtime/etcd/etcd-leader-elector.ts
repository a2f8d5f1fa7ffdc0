// Leader election over an etcd lease: the leader is whoever created PREFIX/leader (attached to its lease); the key's
// create_revision names the term and fences every write of it. A leader that cannot renew its lease within the TTL
// ends its term on its own, at the time etcd lets the lease (and the key) go, so two replicas never both think they
// lead for long, and the fence refuses the writes of one that has not noticed yet.
import type { Lease } from 'etcd3';
import { UnavailableError, isStateError } from '../errors.js';
import type { LeaderElector, LeaderTerm } from '../leader-election.js';
import type { EtcdState } from './etcd-state.js';

export interface EtcdLeaderElectorOptions {
  state: EtcdState;
  /** This replica's name, stored as the leader key's value (shown to people and in refusals). */
  name: string;
  /** Lease TTL in whole seconds (default 5): a dead leader is replaced within about this long. */
  ttlSeconds?: number;
  /** Pause before campaigning again after etcd could not be reached (default 200 ms). */
  retryMs?: number;
}

export class EtcdLeaderElector implements LeaderElector {
  private readonly ttl: number;
  private readonly retryMs: number;

  constructor(private readonly options: EtcdLeaderElectorOptions) {
    this.ttl = options.ttlSeconds ?? 5;
    if (!Number.isInteger(this.ttl) || this.ttl < 1) throw new RangeError(`ttlSeconds: expected a whole number of seconds >= 1, got ${this.ttl}`);
    this.retryMs = options.retryMs ?? 200;
  }

  /** The name of the replica that leads now, if any. */
  async leader(): Promise<string | undefined> {
    const { state } = this.options;
    const { kvs } = await state.connection.read([{ key: state.keys.leader }]);
    return kvs[0][0]?.value.toString();
  }

  async campaign(signal: AbortSignal): Promise<LeaderTerm> {
    for (;;) {
      signal.throwIfAborted();
      if (this.options.state.closed) throw new UnavailableError('the store this replica campaigns on is closed');
      try {
        const term = await this.tryOnce(signal);
        if (term) return term;
      } catch (err) {
        if (!isStateError(err, 'Unavailable') && !isRpcFailure(err)) throw err;
        await pause(this.retryMs, signal);
      }
    }
  }

  /** One attempt: take the key if it is free, else wait until it is deleted (or a while) and report not elected. */
  private async tryOnce(signal: AbortSignal): Promise<LeaderTerm | undefined> {
    const { state, name } = this.options;
    const { connection: conn, keys } = state;
    const lease = conn.client.lease(this.ttl, { autoKeepAlive: false });
    let leaseId: string;
    try {
      leaseId = await lease.grant();
    } catch (err) {
      throw conn.unavailable(err);
    }
    const res = await conn
      .txn(
        [{ key: keys.leader, target: 'Create', result: 'Equal', create_revision: 0 }],
        [{ request_put: { key: keys.leader, value: Buffer.from(name), lease: leaseId } }],
        [{ request_range: { key: keys.leader } }],
      )
      .catch(async (err: unknown) => {
        await lease.revoke().catch(() => undefined);
        throw err;
      });
    if (res.succeeded) return this.term(lease, res.header.revision);
    await lease.revoke().catch(() => undefined);
    const holder = res.responses[0]?.response_range.kvs[0];
    if (holder) await this.untilDeleted(holder.mod_revision, signal);
    return undefined;
  }

  private term(lease: Lease, createRevision: string): LeaderTerm {
    const { state, name } = this.options;
    const holder = `${name} (term ${createRevision})`;
    let end!: (reason: string) => void;
    const ended = new Promise<string>((resolve) => (end = resolve));
    let lastRenewed = Date.now();
    let over = false;
    const finish = (reason: string) => {
      if (over) return;
      over = true;
      clearInterval(keepalive);
      void watch.then((w) => w.cancel()).catch(() => undefined);
      end(reason);
    };
    // Renew at a third of the TTL; a term not renewed for the whole TTL is over, as it is for etcd.
    const keepalive = setInterval(() => {
      if (state.closed) return finish('store closed');
      if (Date.now() - lastRenewed >= this.ttl * 1000) return finish(`lease not renewed within its ${this.ttl} s TTL`);
      lease
        .keepaliveOnce({ deadline: Date.now() + (this.ttl * 1000) / 3 })
        .then((r) => {
          if (r.TTL === '0') finish('lease expired');
          else lastRenewed = Date.now();
        })
        .catch(() => undefined);
    }, (this.ttl * 1000) / 3);
    const watch = state.connection
      .watch()
      .key(state.keys.leader)
      .startRevision((BigInt(createRevision) + 1n).toString())
      .create();
    void watch
      .then((w) => {
        w.on('delete', () => finish('leader key deleted'));
        w.on('put', (kv) => {
          if (kv.create_revision !== createRevision) finish('another replica holds the leader key');
        });
      })
      .catch(() => undefined);
    return {
      holder,
      state: state.fenced({ key: state.keys.leader, createRevision, holder }),
      ended,
      resign: async () => {
        finish('resigned');
        await lease.revoke().catch(() => undefined);
      },
    };
  }

  /** Waits for the leader key to go (its holder's lease expired or it resigned), at most one TTL. */
  private async untilDeleted(modRevision: string, signal: AbortSignal): Promise<void> {
    const { state } = this.options;
    const watcher = await state.connection
      .watch()
      .key(state.keys.leader)
      .startRevision((BigInt(modRevision) + 1n).toString())
      .only('delete')
      .create()
      .catch(() => undefined);
    try {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => done(), this.ttl * 1000);
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        };
        watcher?.on('delete', done);
        watcher?.on('error', done);
        signal.addEventListener('abort', done, { once: true });
      });
    } finally {
      await watcher?.cancel().catch(() => undefined);
    }
  }
}

function isRpcFailure(err: unknown): boolean {
  return err instanceof Error && /^(GRPC|Etcd)/.test(err.constructor.name);
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
