// A small real cluster for the CA rotation tests: `trustctl serve` child processes (control planes, each with its own
// trustd, then workers joining through the first one's) on 127.0.0.1 with free ports, made from the Talos fixture
// bundle, plus the credentials a test needs to talk to them.
import { copyFileSync, mkdirSync } from 'node:fs';
import https from 'node:https';
import { createSecureContext } from 'node:tls';
import { issueClientCertificate } from '../../src/config/index.js';
import type { PemCertAndKey } from '../../src/config/index.js';
import { encodePrivateKeyPkcs8Pem, parsePrivateKeyPem } from '../../src/pki/index.js';
import { phaseIndex } from '../../src/resources/ca-rotation.js';
import type { RotationPhase } from '../../src/resources/ca-rotation.js';
import { parseNodeAddress } from '../../src/server/apid/node-address.js';
import { callNode } from '../../src/server/rotation/node-client.js';
import type { NodeAnswer, NodeCredentials } from '../../src/server/rotation/node-client.js';
import { Sandbox } from '../config/support/run-trustctl.js';
import { freePort } from '../support/free-port.js';
import { FIXTURE_SECRETS, fixtureBundle } from '../controllers/node-harness.js';
import { NodeSandbox } from '../cli/node-sandbox.js';
import type { Running } from '../cli/node-sandbox.js';

export const OLD_OS_CA: PemCertAndKey = fixtureBundle().certs.os;

export async function credentials(ca: PemCertAndKey, trusted: string[]): Promise<NodeCredentials> {
  const pair = await issueClientCertificate(ca, { roles: ['os:admin'], now: new Date(Date.now() - 300_000) });
  return { ca: trusted.join('\n'), cert: pair.crt, key: encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(pair.key)) };
}

interface Member {
  name: string;
  role: 'controlplane' | 'worker';
  apidPort: number;
  /** A control plane's own trustd port; a worker's is the first control plane's. */
  trustdPort: number;
  state: string;
  args: string[];
  process?: Running;
}

export class RotationCluster {
  readonly box = new NodeSandbox();
  readonly members: Member[] = [];
  private readonly agents = new Map<string, https.Agent>();

  static async start(workers: number, controlPlanes = 1): Promise<RotationCluster> {
    const cluster = new RotationCluster();
    const gen = await cluster.box.run(['gen', 'config', 'demo', 'https://127.0.0.1:6443', '--with-secrets', FIXTURE_SECRETS, '--output-types', 'controlplane,worker,talosconfig']);
    if (gen.code !== 0) throw new Error(`gen config failed: ${gen.stderr}`);
    mkdirSync(cluster.box.path('home', '.talos'), { recursive: true });
    copyFileSync(cluster.box.path('talosconfig'), cluster.box.talosconfig);
    for (let i = 1; i <= controlPlanes; i++) await cluster.add(`cp-${i}`, 'controlplane', await freePort());
    for (let i = 1; i <= workers; i++) await cluster.add(`worker-${i}`, 'worker', cluster.controlPlane.trustdPort);
    try {
      for (const m of cluster.members) await cluster.launch(m);
    } catch (err) {
      // The caller gets no cluster to destroy: the processes already started must not outlive the test run.
      await cluster.destroy();
      throw err;
    }
    return cluster;
  }

  get controlPlane(): Member {
    return this.members[0];
  }

  get controlPlanes(): Member[] {
    return this.members.filter((m) => m.role === 'controlplane');
  }

  address(m: Member): string {
    return `127.0.0.1:${m.apidPort}`;
  }

  get addresses(): string[] {
    return this.members.map((m) => this.address(m));
  }

  private async add(name: string, role: Member['role'], trustdPort: number): Promise<void> {
    const apidPort = await freePort();
    const state = this.box.path(`${name}-state`);
    const args = [
      'serve', '--config', this.box.path(role === 'worker' ? 'worker.yaml' : 'controlplane.yaml'), '--state', state, '--node-ip', '127.0.0.1', '--hostname', name,
      '--listen-address', '127.0.0.1', '--apid-port', String(apidPort),
      ...(role === 'worker' ? ['--trustd-endpoint', `127.0.0.1:${trustdPort}`] : ['--trustd-port', String(trustdPort)]),
    ];
    this.members.push({ name, role, apidPort, trustdPort, state, args });
  }

  /** Starts (or restarts) a member and waits until its apid answers an admin call from the fixture's OS CA. */
  async launch(m: Member): Promise<void> {
    m.process = this.box.start(m.args);
    await m.process.until(`${m.name} settles`, (r) => r.stderr.includes('msg="node settled"'));
    const admin = await credentials(OLD_OS_CA, [OLD_OS_CA.crt]);
    await this.until(`${m.name} apid answers`, async () => (await callNode(this.address(m), admin, 'GET', '/v1/version')).error === undefined);
  }

  /**
   * SIGKILLs `m` once in each middle phase of a rotation it is seen in (`phase` reads it, undefined while `m` is down),
   * restarting it each time with the same command line, as a supervisor would (its --config file is the config from
   * before the rotation: serve must keep the store's), until the rotation is Done. Returns the phases it was killed in.
   */
  async killInEachPhase(m: Member, phase: () => Promise<RotationPhase | undefined>): Promise<RotationPhase[]> {
    const killedIn: RotationPhase[] = [];
    for (;;) {
      let seen: RotationPhase | undefined;
      await this.until('a phase not killed in yet, or Done', async () => {
        seen = await phase();
        return seen === 'Done' || (seen !== undefined && phaseIndex(seen) >= phaseIndex('NewCAAccepted') && !killedIn.includes(seen));
      });
      if (seen === 'Done') return killedIn;
      m.process!.signal('SIGKILL');
      const exit = await m.process!.exited;
      if (exit.signal !== 'SIGKILL') throw new Error(`${m.name} ended by ${exit.signal ?? `exit code ${exit.code}`}, not by the SIGKILL`);
      killedIn.push(seen!);
      m.process = this.box.start(m.args);
    }
  }

  /** Real time passes here: the nodes are other processes. The mocha timeout bounds the wait. */
  async until(what: string, done: () => Promise<boolean>): Promise<void> {
    let last: unknown;
    for (let i = 0; i < 600; i++) {
      try {
        if (await done()) return;
      } catch (err) {
        last = err;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`never happened: ${what}${last ? ` (last error: ${String(last)})` : ''}\n${this.members.map((m) => `--- ${m.name}\n${m.process?.stderr.slice(-3000)}`).join('\n')}`);
  }

  call(m: Member, creds: NodeCredentials, method: string, path: string, body?: unknown): Promise<NodeAnswer> {
    return callNode(this.address(m), creds, method, path, body);
  }

  /** A resource's spec on `m` read over apid; undefined when it has none or does not answer (killed, restarting). */
  reader(m: Member, creds: NodeCredentials): (type: string, id: string) => Promise<unknown> {
    // Reads go over one kept-alive connection per node and credentials: the peer probers read in a loop, and a fresh
    // handshake per read made the nodes spend most of the test's CPU on handshakes. (Calls whose acceptance is under
    // test go through call(), a fresh connection each.)
    const key = `${m.name}\u0000${creds.cert}`;
    let agent = this.agents.get(key);
    if (!agent) {
      // One TLS context for all its connections: an agent given the PEMs parses them again for each new connection,
      // and a node killed or restarting breaks them often (~1.3 s of the kill test's CPU went there).
      const secureContext = createSecureContext({ ca: creds.ca, cert: creds.cert, key: creds.key });
      agent = new https.Agent({ keepAlive: true, maxSockets: 1, secureContext });
      this.agents.set(key, agent);
    }
    const via = agent;
    return async (type, id) => {
      const answer = await getJson(via, this.address(m), `/v1/resources/${type}/${id}`);
      return answer === undefined ? undefined : (answer as { spec: unknown }).spec;
    };
  }

  async destroy(): Promise<void> {
    for (const agent of this.agents.values()) agent.destroy();
    for (const m of this.members) {
      m.process?.signal('SIGTERM');
      await m.process?.exited;
    }
    this.box.remove();
  }
}

export { Sandbox };

/** A GET's JSON body through `agent`; undefined for any refusal or failure (a node down or restarting). */
function getJson(agent: https.Agent, address: string, path: string): Promise<unknown> {
  const { host, port } = parseNodeAddress(address);
  return new Promise((resolve) => {
    const req = https.request({ host, port, path, agent, timeout: 10_000 }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (data += d));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 ? (JSON.parse(data) as unknown) : undefined);
        } catch {
          resolve(undefined);
        }
      });
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
