// Replicas as separate processes on one etcd store, killed and paused while they issue: exactly one leads at a time,
// a successor takes over, and every request ends up issued exactly once.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openEtcdState } from '../../src/runtime/etcd/index.js';
import type { EtcdState } from '../../src/runtime/etcd/index.js';
import { isStateError } from '../../src/runtime/errors.js';
import type { KeyPairSpec } from '../fixtures-runtime/definitions.js';
import { testRegistry } from '../fixtures-runtime/definitions.js';
import { startEtcd } from '../support/etcd-server.js';
import type { EtcdServer } from '../support/etcd-server.js';
import type { Issuance } from '../support/issuer-controller.js';

const replicaScript = fileURLToPath(new URL('../support/etcd-replica.js', import.meta.url));
const TTL_SECONDS = 1;

interface Replica {
  name: string;
  child: ChildProcess;
  lines: string[];
}

async function until(what: string, check: () => boolean, patienceMs = 20_000): Promise<void> {
  const deadline = Date.now() + patienceMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('leader failover across replica processes on etcd', () => {
  let server: EtcdServer;
  let url: string;
  let users: EtcdState;
  let replicas: Replica[] = [];
  let stores = 0;
  const key = randomBytes(32);

  before(async function () {
    this.timeout(30_000);
    server = await startEtcd();
  });
  after(async () => server?.stop());

  beforeEach(async () => {
    url = `etcd://${server.endpoint}/failover-${++stores}`;
    users = await openEtcdState({ url, registry: testRegistry(), encryptionKey: key, callTimeoutMs: 1000 });
    replicas = ['a', 'b', 'c'].map((name) => {
      const child = spawn(process.execPath, [replicaScript, url, name, String(TTL_SECONDS)], {
        env: { ...process.env, TRUSTPLANE_STATE_KEY: key.toString('base64') },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const replica: Replica = { name, child, lines: [] };
      createInterface({ input: child.stdout! }).on('line', (line) => replica.lines.push(line));
      return replica;
    });
    await until('three replicas ready and one leader', () =>
      replicas.every((r) => r.lines.includes('ready')) && replicas.some((r) => r.lines.includes(`leader ${r.name}`)),
    );
  });

  afterEach(async () => {
    for (const r of replicas) {
      if (r.child.exitCode !== null || r.child.signalCode !== null) continue;
      const exited = new Promise((resolve) => r.child.once('exit', resolve));
      r.child.kill('SIGCONT');
      r.child.kill('SIGKILL');
      await exited;
    }
    await users.close();
  });

  const leaders = () => replicas.filter((r) => r.lines.includes(`leader ${r.name}`));
  const issuedLines = () => replicas.flatMap((r) => r.lines.filter((l) => l.startsWith('issued ')));

  /** Creates the requests one by one, retrying through refusals, as a user would. */
  async function request(ids: string[]): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (const id of ids) {
      for (;;) {
        if (Date.now() > deadline) throw new Error(`request ${id} not accepted within 20 s`);
        try {
          await users.create({ metadata: { namespace: 'default', type: 'Widgets', id }, spec: { size: 1 } });
          break;
        } catch (err) {
          if (isStateError(err, 'AlreadyExists')) break;
          if (!isStateError(err, 'Unavailable')) throw err;
        }
      }
    }
  }

  /** Every request has exactly one issued key, never re-issued, and no replica reported an issuance twice. */
  async function expectIssuedOnce(ids: string[]): Promise<void> {
    await until(`all ${ids.length} requests issued`, () => new Set(issuedLines().map((l) => l.split(' ')[1])).size >= ids.length - 1);
    let issued = await users.list<KeyPairSpec>({ namespace: 'secrets', type: 'KeyPairs' });
    for (let i = 0; i < 400 && issued.length < ids.length; i++) {
      await new Promise((r) => setTimeout(r, 25));
      issued = await users.list<KeyPairSpec>({ namespace: 'secrets', type: 'KeyPairs' });
    }
    expect(issued.map((k) => k.metadata.id).sort()).to.deep.equal([...ids].sort());
    expect(issued.every((k) => k.metadata.version === 1), 'a key was re-issued').to.equal(true);
    const reported = issuedLines().map((l) => l.split(' ')[1]);
    expect(reported.length, `issuances reported twice: ${reported.join(',')}`).to.equal(new Set(reported).size);
    const byId = new Map(issued.map((k) => [k.metadata.id, (JSON.parse(k.spec.key) as Issuance).by]));
    for (const line of issuedLines()) {
      const [, id, by] = line.split(' ');
      expect(byId.get(id), `${id} reported by ${by}`).to.equal(by);
    }
  }

  it('hands issuing to another replica when the leader is SIGKILLed mid-issuance, issuing each request once', async () => {
    expect(leaders()).to.have.length(1);
    const [first] = leaders();
    const ids = Array.from({ length: 40 }, (_, i) => `r-${i}`);
    const writing = request(ids);
    await until('the leader issuing', () => first.lines.filter((l) => l.startsWith('issued ')).length >= 8);
    const killedAt = Date.now();
    first.child.kill('SIGKILL');
    await until('a new leader', () => leaders().length === 2);
    console.log(`      (takeover ${Date.now() - killedAt} ms after SIGKILL; lease TTL ${TTL_SECONDS} s)`);
    await writing;
    await expectIssuedOnce(ids);
    const second = leaders().find((r) => r !== first)!;
    expect(issuedLines().filter((l) => l.endsWith(` ${second.name}`)).length).to.be.greaterThan(0);
  });

  it('deposes a leader paused past its lease: a successor issues, the old one steps down and issues nothing twice', async () => {
    const [first] = leaders();
    const ids = Array.from({ length: 30 }, (_, i) => `p-${i}`);
    await request(ids.slice(0, 10));
    await until('the first requests issued', () => issuedLines().length >= 10);
    first.child.kill('SIGSTOP');
    const writing = request(ids.slice(10));
    await until('a successor', () => leaders().length === 2);
    await writing;
    first.child.kill('SIGCONT');
    await until('the paused leader stepping down', () => first.lines.some((l) => l.startsWith(`deposed ${first.name}`)));
    await expectIssuedOnce(ids);
    const second = leaders().find((r) => r !== first)!;
    expect(issuedLines().filter((l) => l.endsWith(` ${second.name}`)).length).to.be.greaterThan(0);
  });

  it('survives etcd pausing for longer than the lease: the leader steps down, one replica leads after, each request issued once', async () => {
    const [first] = leaders();
    const ids = Array.from({ length: 20 }, (_, i) => `e-${i}`);
    await request(ids.slice(0, 5));
    await until('the first requests issued', () => issuedLines().length >= 5);
    server.pause();
    await until('the leader stepping down while etcd does not answer', () => first.lines.some((l) => l.startsWith(`deposed ${first.name}`)));
    server.resume();
    await request(ids.slice(5));
    await expectIssuedOnce(ids);
    const electedAfter = replicas.flatMap((r) => r.lines.filter((l) => l.startsWith('leader ')));
    expect(electedAfter.length).to.be.greaterThan(1);
  });
});
