// Starts a throw-away single-node etcd (Debian's etcd-server) on 127.0.0.1 with free ports and a temp data dir, for
// tests and benchmarks; it can be paused (SIGSTOP), resumed, killed and restarted on the same data dir to simulate
// a partition or a crash of the store.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export interface EtcdServer {
  /** `127.0.0.1:PORT`, as an etcd:// URL takes it. */
  readonly endpoint: string;
  readonly dataDir: string;
  readonly pid: number;
  /** SIGSTOP: the process keeps its sockets but answers nothing, like a partitioned node. */
  pause(): void;
  resume(): void;
  /** SIGKILL, as a crash. */
  crash(): Promise<void>;
  /** Starts again (after a crash, or SIGKILL first) on the same data dir and ports; resolves once it serves. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const ETCD = process.env.ETCD_BINARY ?? '/usr/bin/etcd';

function healthy(clientPort: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port: clientPort, path: '/health', timeout: 500 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(/"health":\s*"true"/.test(body)));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

function launch(dataDir: string, clientPort: number, peerPort: number, fresh: boolean): ChildProcess {
  const peer = `http://127.0.0.1:${peerPort}`;
  const client = `http://127.0.0.1:${clientPort}`;
  const args = [
    '--name', 't', '--data-dir', join(dataDir, 'data'),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `t=${peer}`, '--initial-cluster-state', fresh ? 'new' : 'existing',
    // A fast election makes start-up ~0.1 s; etcd refuses an election timeout under 5 heartbeats.
    '--heartbeat-interval', process.env.ETCD_HEARTBEAT_MS ?? '10', '--election-timeout', process.env.ETCD_ELECTION_MS ?? '100',
    '--log-level', 'error', '--logger', 'zap',
  ];
  const child = spawn(ETCD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  return child;
}

async function waitHealthy(child: ChildProcess, clientPort: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await healthy(clientPort))) {
    if (child.exitCode !== null) throw new Error(`etcd exited with code ${child.exitCode} before serving`);
    if (Date.now() > deadline) throw new Error(`etcd did not serve on 127.0.0.1:${clientPort} within 20 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGCONT');
  child.kill(signal);
  await exited;
}

export async function startEtcd(): Promise<EtcdServer> {
  if (!existsSync(ETCD)) throw new Error(`etcd not found at ${ETCD}: apt-get install -y etcd-server (or set ETCD_BINARY to its path)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'tp-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  let child = launch(dataDir, clientPort, peerPort, true);
  try {
    await waitHealthy(child, clientPort);
  } catch (err) {
    await kill(child, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoint: `127.0.0.1:${clientPort}`,
    dataDir,
    get pid() {
      return child.pid ?? 0;
    },
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    crash: () => kill(child, 'SIGKILL'),
    async restart() {
      await kill(child, 'SIGKILL');
      child = launch(dataDir, clientPort, peerPort, false);
      await waitHealthy(child, clientPort);
    },
    async stop() {
      await kill(child, 'SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
