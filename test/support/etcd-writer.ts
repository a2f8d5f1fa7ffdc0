// A client writing to an etcd cluster without pause, as kube-apiserver does, for tests that change the cluster under it:
// one put after another against the endpoints of that moment, each on a new TLS connection made with the client files
// of that moment, each a single attempt with its own timeouts (no retry here turns a failure into a success), every
// outcome counted. The puts go through test/consumers/etcd-put, one Go process for the whole test (crypto/tls verifies
// both sides as in kube-apiserver); an etcdctl started for each put cost ~36 ms of CPU, more than the put itself.
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientFiles } from './etcd-members.js';
import { buildGoProgram } from './go-program.js';

const SOURCE = resolve(process.cwd(), 'test/consumers/etcd-put');
/**
 * A put starts at most this often: back to back, the Go client put every ~20 ms and the cluster under test spent its
 * CPU on the writer's handshakes. Every 50 ms still finds any moment the cluster cannot take a write in longer than
 * that (etcdctl, one process a put, managed one every ~160 ms).
 */
export const PUT_PACE_MS = 50;

interface PutReply {
  ok: boolean;
  endpoint?: string;
  error?: string;
}

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
  private readonly client: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly replies: ((reply: PutReply) => void)[] = [];
  private stderr = '';

  /** Both are read before each put: a test hands the writer re-issued files as a node would, and drains a member. */
  constructor(
    private readonly endpoints: () => string[],
    private readonly files: () => ClientFiles,
    private readonly prefix: string,
  ) {
    this.client = spawn(buildGoProgram(SOURCE), [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.client.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    createInterface({ input: this.client.stdout }).on('line', (line) => this.replies.shift()?.(JSON.parse(line) as PutReply));
    // A client that ends fails the put it was given, and every later one, with what it said.
    this.client.on('close', (code, signal) => {
      for (const reply of this.replies.splice(0)) reply({ ok: false, error: `etcd-put ended (${signal ?? `exit ${code}`}): ${this.stderr}` });
    });
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
    if (this.client.exitCode !== null || this.client.signalCode !== null) return;
    const closed = new Promise((resolve) => this.client.once('close', resolve));
    this.client.stdin.end();
    await closed;
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
      const r = await this.put(key, value);
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

  private put(key: string, value: string): Promise<PutReply> {
    const files = this.files();
    const request = { key, value, endpoints: this.endpoints(), cacert: files.cacert, cert: files.cert, keyFile: files.key, dialTimeoutMs: 2_000, commandTimeoutMs: 5_000 };
    return new Promise((resolve) => {
      if (this.client.exitCode !== null || this.client.signalCode !== null) return resolve({ ok: false, error: `etcd-put has ended: ${this.stderr}` });
      this.replies.push(resolve);
      this.client.stdin.write(`${JSON.stringify(request)}\n`);
    });
  }
}
