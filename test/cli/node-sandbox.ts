// A Sandbox for the local node commands: a control plane config made by `trustctl gen config` from the Talos fixture
// bundle, a state directory, JSON reads through `trustctl get`, and long-running children (serve, get -w) whose output
// a test can wait on.
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseMachineConfig } from '../../src/config/index.js';
import type { MachineConfig } from '../../src/config/index.js';
import { CLI, Sandbox } from '../config/support/run-trustctl.js';
import { FIXTURE_SECRETS } from '../controllers/node-harness.js';

export interface JsonResource<Spec = Record<string, unknown>> {
  metadata: { namespace: string; type: string; id: string; version: number; owner: string; phase: string; created: string; updated: string };
  spec: Spec;
}

export interface CertificateStatusJson {
  state: string;
  serial: string;
  subject: string;
  dnsNames: string[];
  ipAddresses: string[];
}

export class NodeSandbox extends Sandbox {
  readonly state = this.path('state');
  readonly config = this.path('controlplane.yaml');

  /** Writes controlplane.yaml with `gen config --with-secrets <fixture bundle>`. */
  static async create(): Promise<NodeSandbox> {
    const box = new NodeSandbox();
    const r = await box.run(['gen', 'config', 'demo', 'https://10.5.0.2:6443', '--with-secrets', FIXTURE_SECRETS, '--output-types', 'controlplane']);
    if (r.code !== 0) throw new Error(`gen config failed: ${r.stderr}`);
    return box;
  }

  machineConfig(): MachineConfig {
    return parseMachineConfig(readFileSync(this.config, 'utf8'));
  }

  /** Writes a variant of the config to `name` and returns its path. */
  writeConfig(name: string, change: (config: MachineConfig) => void): string {
    const config = this.machineConfig();
    change(config);
    writeFileSync(this.path(name), config.toYaml(), { mode: 0o600 });
    return this.path(name);
  }

  /** serve --once with fixed addresses, so certificate SANs do not depend on the test machine; in process, like run(). */
  serveOnce(...extra: string[]) {
    return this.run(this.onceArgs(extra));
  }

  /** serveOnce as a child process: where what reaches the real stderr, or the exit code of the process, is under test. */
  serveOnceProcess(...extra: string[]) {
    return this.runProcess(this.onceArgs(extra));
  }

  private onceArgs(extra: string[]): string[] {
    return ['serve', '--state', this.state, '--once', '--node-ip', '10.5.0.2', '--hostname', 'cp-1', ...extra];
  }

  async getJson<Spec>(type: string): Promise<JsonResource<Spec>[]> {
    const r = await this.run(['get', type, '--state', this.state, '-o', 'json']);
    if (r.code !== 0) throw new Error(`get ${type} failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as JsonResource<Spec>[];
  }

  async certificateStatuses(): Promise<Map<string, JsonResource<CertificateStatusJson>>> {
    return new Map((await this.getJson<CertificateStatusJson>('cs')).map((r) => [r.metadata.id, r]));
  }

  start(args: string[]): Running {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: this.dir,
      env: this.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Running(child);
  }
}

/** A child left running: its output so far, a way to wait for some of it, and its exit. */
export class Running {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly child: ChildProcessByStdio<null, Readable, Readable>) {
    child.stdout.on('data', (d: Buffer) => this.append('stdout', d));
    child.stderr.on('data', (d: Buffer) => this.append('stderr', d));
    this.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.notify());
  }

  /**
   * Resolves when `ready` holds; rejects if the child exits first, or after `giveUpMs` with what the child printed
   * (a bound on a hang, shorter than the mocha timeout so the failure shows the child's output; never a timing check).
   */
  until(what: string, ready: (r: Running) => boolean, giveUpMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (err?: Error) => {
        done = true;
        clearTimeout(timer);
        this.waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => finish(new Error(`gave up waiting for ${what} after ${giveUpMs} ms:\nstdout: ${this.stdout}\nstderr: ${this.stderr}`)), giveUpMs);
      const check = () => {
        if (done) return;
        if (ready(this)) finish();
        else if (this.child.exitCode !== null || this.child.signalCode !== null) finish(new Error(`child exited before ${what}:\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
      };
      this.waiters.add(check);
      check();
    });
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /**
   * Sends `signal` and resolves with the exit; a child still running after `giveUpMs` is killed and the promise
   * rejects with what it printed (a bound on a hang in shutdown, so the failure says where it stuck).
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', giveUpMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`still running ${giveUpMs} ms after ${signal}:\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
      }, giveUpMs);
    });
    try {
      return await Promise.race([this.exited, hung]);
    } finally {
      clearTimeout(timer);
    }
  }

  private append(stream: 'stdout' | 'stderr', data: Buffer): void {
    this[stream] += data.toString();
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}
