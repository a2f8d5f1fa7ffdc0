// A client writing to an etcd cluster without pause, as kube-apiserver does, for tests that change the cluster under it:
// one put after another against the endpoints of that moment, each on a new TLS connection made with the client files
// of that moment, each a single attempt with its own timeouts (no retry here turns a failure into a success), every
// outcome counted. The puts go through EtcdClient, one Go process for the whole test (crypto/tls verifies both sides as
// in kube-apiserver); an etcdctl started for each put cost ~36 ms of CPU, more than the put itself.
import { setTimeout as sleep } from 'node:timers/promises';
import { EtcdClient } from './etcd-client.js';
import type { ClientFiles } from './etcd-client.js';

/**
 * A put starts at most this often. Back to back, puts of a few milliseconds each would spend the CPU of the cluster
 * under test on the writer's handshakes; every 50 ms still finds any moment longer than that in which the cluster
 * takes no write (etcdctl, a process per put, managed one every ~160 ms).
 */
export const PUT_PACE_MS = 50;

export class EtcdWriter {
  attempted = 0;
  /** Each key whose put etcd acknowledged, with its value. */
  readonly written = new Map<string, string>();
  /** Each failed put: its key, and the endpoint and error the client reported. */
  readonly failures: string[] = [];
  /** How long each pausedFor held the writes back (ms). */
  readonly pauses: number[] = [];
  private stopped = false;
  private paused: Promise<void> | undefined;
  private idle: (() => void) | undefined;
  private readonly waiters: { at: number; resolve: () => void }[] = [];
  private readonly running: Promise<void>;
  private readonly client = new EtcdClient();

  /** Both are read before each put: a test hands the writer re-issued files as a node would, and drains a member. */
  constructor(
    private readonly endpoints: () => string[],
    private readonly files: () => ClientFiles,
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
    await this.client.close();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.paused) {
        this.idle?.();
        await this.paused;
        continue;
      }
      const began = performance.now();
      const n = ++this.attempted;
      const key = `${this.prefix}${String(n).padStart(6, '0')}`;
      const value = `put-${n}`;
      const r = await this.client.put(key, value, { endpoints: this.endpoints(), client: this.files(), dialTimeoutMs: 2_000, commandTimeoutMs: 5_000 });
      if (r.ok) this.written.set(key, value);
      else this.failures.push(`${key}${r.endpoint ? ` on ${r.endpoint}` : ''}: ${r.error}`);
      for (const w of this.waiters.filter((w) => w.at <= this.completed)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
      const rest = PUT_PACE_MS - (performance.now() - began);
      if (rest > 0 && !this.stopped && !this.paused) await sleep(rest);
    }
  }
}
