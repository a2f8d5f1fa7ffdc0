// A client writing to an etcd cluster without pause, as kube-apiserver does, for tests that change the cluster under it:
// one `etcdctl put` after another against the endpoints of that moment, each a single attempt with its own timeouts (no
// retry here turns a failure into a success), each with the client files of that moment, every outcome counted.
import { etcdctl } from './etcd-members.js';
import type { ClientFiles } from './etcd-members.js';

export class EtcdWriter {
  attempted = 0;
  /** Each key whose put etcd acknowledged, with its value. */
  readonly written = new Map<string, string>();
  /** Each failed put: its key and what etcdctl said. */
  readonly failures: string[] = [];
  /** How long each pausedFor held the writes back (ms). */
  readonly pauses: number[] = [];
  private stopped = false;
  private paused: Promise<void> | undefined;
  private idle: (() => void) | undefined;
  private readonly waiters: { at: number; resolve: () => void }[] = [];
  private readonly running: Promise<void>;

  /** Both are read before each put: a test hands the writer re-issued files as a node would, and drains a member. */
  constructor(
    private readonly endpoints: () => string[],
    private readonly client: () => ClientFiles,
    private readonly prefix: string,
  ) {
    this.running = this.loop();
  }

  /** Puts that have ended, acknowledged or not. */
  get completed(): number {
    return this.written.size + this.failures.length;
  }

  /** Resolves once `count` more puts than now have ended. */
  afterPuts(count: number): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ at: this.completed + count, resolve }));
  }

  /**
   * Runs `work` with no put in flight: the put under way ends first, and the next one starts once `work` is done. For
   * what etcd itself cannot do under writes (a leadership transfer drops the proposals that arrive meanwhile).
   */
  async pausedFor<T>(work: () => Promise<T>): Promise<T> {
    const from = Date.now();
    let release: () => void = () => undefined;
    const idle = new Promise<void>((resolve) => (this.idle = resolve));
    this.paused = new Promise((resolve) => (release = resolve));
    await idle;
    try {
      return await work();
    } finally {
      this.paused = undefined;
      release();
      this.pauses.push(Date.now() - from);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.paused) {
        this.idle?.();
        await this.paused;
        continue;
      }
      const n = ++this.attempted;
      const key = `${this.prefix}${String(n).padStart(6, '0')}`;
      const value = `put-${n}`;
      const r = await etcdctl(['put', key, value], { endpoints: this.endpoints(), client: this.client(), dialTimeout: '2s', commandTimeout: '5s' });
      if (r.code === 0 && r.out.trim() === 'OK') this.written.set(key, value);
      else this.failures.push(`${key}: exit ${r.code}: ${r.out.trim()}`);
      for (const w of this.waiters.filter((w) => w.at <= this.completed)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }
}
