// A Go client of etcd for tests (test/consumers/etcd-client): one process, one new TLS connection per call with the
// client files of that moment, each call a single attempt with its own timeouts, never retried here. Calls are answered
// in the order they were made.
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { buildGoProgram } from './go-program.js';

const SOURCE = resolve(process.cwd(), 'test/consumers/etcd-client');

/**
 * An etcd client's files on disk, as etcdctl's --cacert, --cert and --key name them: the CA bundle it checks servers
 * against, and its certificate and key.
 */
export interface ClientFiles {
  cacert: string;
  cert: string;
  key: string;
}

export interface EtcdCallOptions {
  endpoints: string[];
  client: ClientFiles;
  dialTimeoutMs: number;
  commandTimeoutMs: number;
}

export interface EtcdReply {
  ok: boolean;
  /** The endpoint the call went to, once a connection was made. */
  endpoint?: string;
  error?: string;
}

export class EtcdClient {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly replies: ((reply: EtcdReply) => void)[] = [];
  private stderr = '';

  constructor() {
    this.child = spawn(buildGoProgram(SOURCE), [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    createInterface({ input: this.child.stdout }).on('line', (line) => this.replies.shift()?.(JSON.parse(line) as EtcdReply));
    // A client that ends fails the calls it was given, and every later one, with what it said.
    this.child.on('close', (code, signal) => {
      for (const reply of this.replies.splice(0)) reply({ ok: false, error: `etcd-client ended (${signal ?? `exit ${code}`}): ${this.stderr}` });
    });
  }

  put(key: string, value: string, o: EtcdCallOptions): Promise<EtcdReply> {
    return this.call({ op: 'put', key, value }, o);
  }

  /** A linearizable read through the first endpoint that takes a connection: what `etcdctl endpoint health` asks. */
  health(o: EtcdCallOptions): Promise<EtcdReply> {
    return this.call({ op: 'health' }, o);
  }

  async close(): Promise<void> {
    if (this.ended) return;
    const closed = new Promise((resolve) => this.child.once('close', resolve));
    this.child.stdin.end();
    await closed;
  }

  private get ended(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  private call(what: Record<string, string>, o: EtcdCallOptions): Promise<EtcdReply> {
    const request = { ...what, endpoints: o.endpoints, cacert: o.client.cacert, cert: o.client.cert, keyFile: o.client.key, dialTimeoutMs: o.dialTimeoutMs, commandTimeoutMs: o.commandTimeoutMs };
    return new Promise((resolve) => {
      if (this.ended) return resolve({ ok: false, error: `etcd-client has ended: ${this.stderr}` });
      this.replies.push(resolve);
      this.child.stdin.write(`${JSON.stringify(request)}\n`);
    });
  }
}
