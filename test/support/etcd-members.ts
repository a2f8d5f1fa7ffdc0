// etcd 3.4 members (Debian's etcd-server) on mutual TLS for the consumer tests, one per network namespace where
// `ip netns` is allowed (see netns.ts), with what an operator does to them: write a member's certificate files, stop and
// start it on the same data dir, find and move the raft leader, and run etcdctl as a client. Each member's files live
// in a generation directory behind a `current` symlink that is swapped with one rename, so a member reading its files
// (etcd re-reads its certificate and key on each handshake) never sees a certificate from one generation beside the key
// of another for longer than the two opens of one handshake.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdClient } from './etcd-client.js';
import type { ClientFiles } from './etcd-client.js';
import type { NetnsSet } from './netns.js';

export const ETCD = process.env.ETCD_BINARY ?? '/usr/bin/etcd';

export interface Pair {
  crt: string;
  /** PKCS#8 PEM. */
  key: string;
}

/** What a node hands its etcd member: the trusted CA bundle (client and peer) and the server and peer pairs. */
export interface MemberFiles {
  ca: string;
  server: Pair;
  peer: Pair;
}

export type { ClientFiles } from './etcd-client.js';

export interface Run {
  code: number;
  out: string;
}

export interface EtcdctlOptions {
  endpoints: string[];
  client: ClientFiles;
  /** etcdctl's --dial-timeout and --command-timeout, e.g. '2s'. */
  dialTimeout?: string;
  commandTimeout?: string;
}

/** One etcdctl run; never retried here, so a failure is reported as it happened. */
export function etcdctl(args: string[], o: EtcdctlOptions): Promise<Run> {
  const flags = ['--endpoints', o.endpoints.join(','), '--cacert', o.client.cacert, '--cert', o.client.cert, '--key', o.client.key];
  flags.push('--dial-timeout', o.dialTimeout ?? '2s', '--command-timeout', o.commandTimeout ?? '5s');
  return new Promise((resolve) => {
    const child = spawn('etcdctl', [...flags, ...args], { env: { PATH: process.env.PATH, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (err) => resolve({ code: -1, out: err.message }));
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

/** A member as `etcdctl endpoint status -w simple` shows it. */
export interface MemberStatus {
  endpoint: string;
  /** The member ID in hex, as move-leader takes it. */
  id: string;
  leader: boolean;
}

export class EtcdMembers {
  private readonly children: (ChildProcess | undefined)[];
  private readonly generations: number[];
  private readonly loaded: string[];
  private readonly stderr: string[];
  /** The client the operator's calls (health, status, move-leader) use; a test moves it along with a rotation. */
  admin: ClientFiles;
  /** The health polls' client: one Go process, where an etcdctl per poll cost ~36 ms of CPU. */
  private readonly client = new EtcdClient();

  private constructor(
    private readonly dir: string,
    private readonly netns: NetnsSet | undefined,
    readonly addresses: string[],
    admin: ClientFiles,
  ) {
    this.admin = admin;
    this.children = addresses.map(() => undefined);
    this.generations = addresses.map(() => 0);
    this.loaded = addresses.map(() => '');
    this.stderr = addresses.map(() => '');
  }

  /** Writes every member's files, starts them all as a new cluster and resolves once each one is healthy. */
  static async start(dir: string, netns: NetnsSet | undefined, addresses: string[], files: MemberFiles[], admin: ClientFiles): Promise<EtcdMembers> {
    const members = new EtcdMembers(dir, netns, addresses, admin);
    files.forEach((f, i) => members.write(i, f));
    addresses.forEach((_, i) => members.spawn(i));
    try {
      for (let i = 0; i < addresses.length; i++) await members.untilHealthy(i);
    } catch (err) {
      // The caller gets no members to stop: what started here must not outlive the test.
      await members.stopAll();
      throw err;
    }
    return members;
  }

  endpoint(i: number): string {
    return `https://${this.addresses[i]}:2379`;
  }

  get endpoints(): string[] {
    return this.addresses.map((_, i) => this.endpoint(i));
  }

  /** Puts a new generation of member i's files in place with one rename; a running member sees it at its next handshake. */
  write(i: number, files: MemberFiles): void {
    const base = join(this.dir, `member-${i}`);
    const generation = join(base, `gen-${++this.generations[i]}`);
    mkdirSync(generation, { recursive: true });
    secret(generation, 'ca.crt', files.ca);
    for (const [name, pair] of [['server', files.server], ['peer', files.peer]] as const) {
      secret(generation, `${name}.crt`, pair.crt);
      secret(generation, `${name}.key`, pair.key);
    }
    const link = join(base, `current.${this.generations[i]}`);
    symlinkSync(generation, link);
    renameSync(link, join(base, 'current'));
  }

  /** The CA bundle member i read when it last started: etcd reads its trusted CA files only then. */
  loadedCA(i: number): string {
    return this.loaded[i];
  }

  running(i: number): boolean {
    return this.children[i] !== undefined;
  }

  /** SIGTERM (etcd's graceful stop, as an operator's restart does) and the process's end. */
  async stop(i: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.children[i];
    if (!child) return;
    this.children[i] = undefined;
    if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => (child.once('exit', resolve), child.kill(signal)));
  }

  /** Starts member i again on its data dir (it rejoins with the raft state it kept) and resolves once it is healthy. */
  async restart(i: number): Promise<void> {
    await this.stop(i);
    this.spawn(i);
    await this.untilHealthy(i);
  }

  /** What each member says of itself; throws unless every member answers. */
  async status(): Promise<MemberStatus[]> {
    const r = await etcdctl(['endpoint', 'status', '-w', 'simple'], { endpoints: this.endpoints, client: this.admin });
    if (r.code !== 0) throw new Error(`etcdctl endpoint status: ${r.out}`);
    return r.out
      .trim()
      .split('\n')
      .map((line) => line.split(', '))
      .map(([endpoint, id, , , leader]) => ({ endpoint, id, leader: leader === 'true' }));
  }

  /** Whether member i is the raft leader now. */
  async leads(i: number): Promise<boolean> {
    return (await this.status()).some((s) => s.endpoint === this.endpoint(i) && s.leader);
  }

  /** Hands leadership from member i (the leader) to another member (etcdctl move-leader); resolves once it has moved. */
  async moveLeaderAwayFrom(i: number): Promise<void> {
    const before = await this.status();
    const to = before.find((s) => s.endpoint !== this.endpoint(i))!;
    const r = await etcdctl(['move-leader', to.id], { endpoints: [this.endpoint(i)], client: this.admin });
    if (r.code !== 0) throw new Error(`etcdctl move-leader ${to.id} on ${this.endpoint(i)}: ${r.out}`);
    const after = await this.status();
    const leader = after.find((s) => s.leader);
    if (leader?.endpoint !== to.endpoint) throw new Error(`after move-leader the leader is ${leader?.endpoint ?? 'none'}, not ${to.endpoint}`);
  }

  /** The end of a test: SIGKILL, since members stopping together each wait seconds to hand leadership to the others. */
  async stopAll(): Promise<void> {
    await Promise.all(this.addresses.map((_, i) => this.stop(i, 'SIGKILL')));
    await this.client.close();
  }

  private spawn(i: number): void {
    const a = this.addresses[i];
    const current = join(this.dir, `member-${i}`, 'current');
    const peers = this.addresses.map((p, j) => `etcd-${j + 1}=https://${p}:2380`).join(',');
    const args = [
      '--name', `etcd-${i + 1}`, '--data-dir', join(this.dir, `data-${i}`),
      '--listen-client-urls', `https://${a}:2379`, '--advertise-client-urls', `https://${a}:2379`,
      '--listen-peer-urls', `https://${a}:2380`, '--initial-advertise-peer-urls', `https://${a}:2380`,
      // read only on the first start: a member restarted on its data dir keeps the cluster it belongs to
      '--initial-cluster', peers, '--initial-cluster-state', 'new', '--initial-cluster-token', `tp-${process.pid}`,
      '--client-cert-auth', '--trusted-ca-file', join(current, 'ca.crt'),
      '--cert-file', join(current, 'server.crt'), '--key-file', join(current, 'server.key'),
      '--peer-client-cert-auth', '--peer-trusted-ca-file', join(current, 'ca.crt'),
      '--peer-cert-file', join(current, 'peer.crt'), '--peer-key-file', join(current, 'peer.key'),
      '--heartbeat-interval', '50', '--election-timeout', '500', '--log-level', 'error', '--logger', 'zap',
    ];
    const command = [...(this.netns?.exec(i) ?? []), ETCD, ...args];
    const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    // the last few kB of what it logged, for the message when it never becomes healthy
    child.stderr?.on('data', (d: Buffer) => (this.stderr[i] = (this.stderr[i] + d.toString()).slice(-4000)));
    this.children[i] = child;
    this.loaded[i] = readFileSync(join(current, 'ca.crt'), 'utf8');
  }

  /** Real time: etcd is another process. Polls member i's own health (a quorum read through it, as etcdctl's). */
  private async untilHealthy(i: number): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await this.client.health({ endpoints: [this.endpoint(i)], client: this.admin, dialTimeoutMs: 1_000, commandTimeoutMs: 2_000 });
      if (r.ok) return;
      if (Date.now() > deadline) throw new Error(`etcd member ${i + 1} (${this.endpoint(i)}) did not become healthy: ${r.error}\n${this.stderr[i]}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Writes a client's PEMs to files of their own (0600) under `dir` and returns their paths. */
export function clientFiles(dir: string, ca: string, pair: Pair): ClientFiles {
  const at = mkdtempSync(join(dir, 'client-'));
  return { cacert: secret(at, 'ca.crt', ca), cert: secret(at, 'client.crt', pair.crt), key: secret(at, 'client.key', pair.key) };
}

function secret(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}
