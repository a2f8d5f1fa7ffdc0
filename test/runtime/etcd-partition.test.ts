// The store goes away under a running runtime: paused (a partition: sockets open, no answers) or killed and restarted
// on its data dir. Callers get UnavailableError, the runtime reports it and retries, and once etcd is back every
// request is issued exactly once.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { openEtcdState } from '../../src/runtime/etcd/index.js';
import type { EtcdState } from '../../src/runtime/etcd/index.js';
import { UnavailableError, isStateError } from '../../src/runtime/errors.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { KeyPairSpec } from '../fixtures-runtime/definitions.js';
import { testRegistry } from '../fixtures-runtime/definitions.js';
import { startEtcd } from '../support/etcd-server.js';
import type { EtcdServer } from '../support/etcd-server.js';
import { issuerController } from '../support/issuer-controller.js';
import { WatchCollector } from '../fixtures-runtime/watch-collector.js';

async function until(what: string, check: () => boolean | Promise<boolean>, patienceMs = 20_000): Promise<void> {
  const deadline = Date.now() + patienceMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('etcd store outages under a running runtime', () => {
  let server: EtcdServer;
  let users: EtcdState;
  let node: EtcdState;
  let runtime: Runtime;
  const issued: string[] = [];
  const failures: string[] = [];

  beforeEach(async function () {
    this.timeout(30_000);
    server = await startEtcd();
    const url = `etcd://${server.endpoint}/outage`;
    const key = randomBytes(32);
    users = await openEtcdState({ url, registry: testRegistry(), encryptionKey: key, callTimeoutMs: 300 });
    node = await openEtcdState({ url, registry: testRegistry(), encryptionKey: key, callTimeoutMs: 300 });
    issued.length = 0;
    failures.length = 0;
  });

  afterEach(async () => {
    server.resume();
    await runtime?.stop();
    await node.close();
    await users.close();
    await server.stop();
  });

  function startRuntime(everyMs?: number): Promise<void> {
    runtime = new Runtime({
      state: node,
      registry: testRegistry(),
      backoff: { initialMs: 100, multiplier: 1.5, maxMs: 500, jitter: 0.2 },
      logger: (message, fields) => failures.push(`${message}: ${String(fields?.error ?? '')}`),
    });
    runtime.register(issuerController('node', (id) => issued.push(id), everyMs));
    return runtime.start();
  }

  async function request(ids: string[]): Promise<void> {
    for (const id of ids) {
      await until(`request ${id} accepted`, async () => {
        try {
          await users.create({ metadata: { namespace: 'default', type: 'Widgets', id }, spec: { size: 1 } });
          return true;
        } catch (err) {
          if (isStateError(err, 'AlreadyExists')) return true;
          if (isStateError(err, 'Unavailable')) return false;
          throw err;
        }
      });
    }
  }

  async function expectIssuedOnce(ids: string[]): Promise<void> {
    await until(`${ids.length} issuances`, () => issued.length >= ids.length);
    expect([...issued].sort()).to.deep.equal([...ids].sort());
    const keys = await users.list<KeyPairSpec>({ namespace: 'secrets', type: 'KeyPairs' });
    expect(keys.map((k) => k.metadata.id).sort()).to.deep.equal([...ids].sort());
    expect(keys.every((k) => k.metadata.version === 1)).to.equal(true);
  }

  const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

  it('reports a paused (partitioned) etcd as UnavailableError, retries, and issues everything once when it answers again', async () => {
    await startRuntime(100);
    await request(ids('before', 5));
    await until('the first issuances', () => issued.length === 5);

    server.pause();
    const refused = await users.create({ metadata: { namespace: 'default', type: 'Widgets', id: 'during' }, spec: { size: 1 } }).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(UnavailableError);
    expect((refused as Error).message).to.match(/^store unavailable: etcd at 127\.0\.0\.1:\d+: .*check that etcd is running/);
    await until('the runtime reporting the outage', () => failures.some((f) => /^reconcile failed; retrying with backoff: store unavailable: etcd at/.test(f)));
    const status = runtime.status().find((s) => s.name === 'IssuerController');
    expect(status?.lastError).to.match(/^store unavailable/);

    server.resume();
    await request(['during', ...ids('after', 5)]);
    await expectIssuedOnce([...ids('before', 5), 'during', ...ids('after', 5)]);
  });

  it('resumes watching and issuing after etcd is killed and restarted on its data dir, losing nothing committed', async () => {
    await startRuntime();
    await request(ids('before', 5));
    await until('the first issuances', () => issued.length === 5);
    const bookmark = await users.revision();

    await server.crash();
    const refused = await users.create({ metadata: { namespace: 'default', type: 'Widgets', id: 'during' }, spec: { size: 1 } }).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(UnavailableError);
    await server.restart();
    expect((await users.list({ namespace: 'default', type: 'Widgets' })).map((r) => r.metadata.id)).to.deep.equal(ids('before', 5));
    await request(ids('after', 5));
    await expectIssuedOnce([...ids('before', 5), ...ids('after', 5)]);
    expect(await users.revision()).to.be.greaterThan(bookmark);
  });

  it('fails a watch started while etcd does not answer with UnavailableError, and starts the next one once it does', async () => {
    await request(['a']);
    server.pause();
    // SIGSTOP lands when the kernel next schedules etcd; wait until it really stops answering.
    await until('etcd to stop answering', () => node.revision().then(() => false, () => true));
    const failed = new WatchCollector(node.watchKind({ namespace: 'default', type: 'Widgets' }, { bootstrap: true }));
    expect(await failed.waitForError()).to.be.instanceOf(UnavailableError);
    server.resume();
    const c = new WatchCollector(node.watchKind({ namespace: 'default', type: 'Widgets' }, { bootstrap: true }));
    await c.waitFor(2);
    await request(['b']);
    expect((await c.waitFor(3)).map((e) => `${e.type}:${e.resource?.metadata.id ?? ''}`)).to.deep.equal(['created:a', 'bootstrapped:', 'created:b']);
    c.stop();
  });
});
