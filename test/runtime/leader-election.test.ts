import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { EtcdLeaderElector, openEtcdState } from '../../src/runtime/etcd/index.js';
import type { EtcdState } from '../../src/runtime/etcd/index.js';
import { FencedWriteError, runWhileLeader } from '../../src/runtime/leader-election.js';
import type { LeaderTerm } from '../../src/runtime/leader-election.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { KeyPairSpec } from '../fixtures-runtime/definitions.js';
import { testRegistry } from '../fixtures-runtime/definitions.js';
import { startEtcd } from '../support/etcd-server.js';
import type { EtcdServer } from '../support/etcd-server.js';
import { issuerController } from '../support/issuer-controller.js';
import type { Issuance } from '../support/issuer-controller.js';

describe('leader election on etcd', () => {
  let server: EtcdServer;
  let url: string;
  let stores = 0;
  const key = randomBytes(32);
  const open: EtcdState[] = [];
  const aborts: AbortController[] = [];

  before(async function () {
    this.timeout(30_000);
    server = await startEtcd();
  });
  after(async () => server?.stop());

  beforeEach(() => {
    url = `etcd://${server.endpoint}/leader-${++stores}`;
  });
  afterEach(async () => {
    for (const a of aborts.splice(0)) a.abort();
    for (const s of open.splice(0)) await s.close();
  });

  const replica = async () => {
    const state = await openEtcdState({ url, registry: testRegistry(), encryptionKey: key, callTimeoutMs: 2000 });
    open.push(state);
    return state;
  };
  const campaign = (elector: EtcdLeaderElector) => {
    const abort = new AbortController();
    aborts.push(abort);
    return elector.campaign(abort.signal);
  };
  const w = (id: string) => ({ metadata: { namespace: 'default', type: 'Widgets', id }, spec: { size: 1 } });

  it('elects exactly one of three campaigning replicas, and another once the leader resigns', async () => {
    const electors = await Promise.all(['a', 'b', 'c'].map(async (name) => new EtcdLeaderElector({ state: await replica(), name, ttlSeconds: 2 })));
    const campaigns = electors.map((e, i) => campaign(e).then((term) => ({ i, term })));
    const first = await Promise.race(campaigns);
    expect(await electors[0].leader()).to.equal(['a', 'b', 'c'][first.i]);
    // While the first term lasts, the others keep waiting: the key holds one leader.
    const settledEarly = await Promise.race([...campaigns.filter((_, i) => i !== first.i), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
    expect(settledEarly).to.equal('waiting');

    await first.term.resign();
    const second = await Promise.race(campaigns.filter((_, i) => i !== first.i));
    expect(second.i).to.not.equal(first.i);
    expect(await electors[0].leader()).to.equal(['a', 'b', 'c'][second.i]);
    expect(await first.term.ended).to.equal('resigned');
    await second.term.resign();
  });

  it("refuses every write of a deposed leader's term once the key is someone else's, and writes nothing", async () => {
    const a = new EtcdLeaderElector({ state: await replica(), name: 'a', ttlSeconds: 2 });
    const b = new EtcdLeaderElector({ state: await replica(), name: 'b', ttlSeconds: 2 });
    const termA: LeaderTerm = await campaign(a);
    await termA.state.create(w('before'));
    // As if a's lease expired while it was paused: the key goes, b takes it; a has not noticed yet.
    const observer = await replica();
    await observer.connection.client.delete().key(observer.keys.leader);
    const termB = await campaign(b);
    const refused = await termA.state.create(w('late')).catch((err: unknown) => err);
    expect(refused).to.be.instanceOf(FencedWriteError);
    expect((refused as Error).message).to.match(/^store unavailable: a \(term \d+\) is no longer the leader/);
    const refusedUpdate = await termA.state.modify(w('before').metadata, () => ({ spec: { size: 2 } })).catch((err: unknown) => err);
    expect(refusedUpdate).to.be.instanceOf(FencedWriteError);
    expect(await observer.find(w('late').metadata)).to.equal(undefined);
    expect((await observer.get(w('before').metadata)).metadata.version).to.equal(1);
    await termB.state.create(w('by-b'));
    expect(await termA.ended).to.match(/leader key deleted|another replica/);
    await termB.resign();
  });

  it('runs the controllers in exactly one replica at a time, and in another after the leader stops', async () => {
    const issued: string[] = [];
    const loops = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const state = await replica();
        const registry = testRegistry();
        const leading: string[] = [];
        const loop = runWhileLeader({
          elector: new EtcdLeaderElector({ state, name, ttlSeconds: 2 }),
          async lead(term) {
            leading.push(term.holder);
            const runtime = new Runtime({ state: term.state, registry });
            runtime.register(issuerController(name, (id) => issued.push(`${id} ${name}`)));
            await runtime.start();
            return () => runtime.stop();
          },
        });
        return { name, loop, leading };
      }),
    );
    const users = await replica();
    const waitIssued = async (n: number) => {
      for (let i = 0; i < 400 && issued.length < n; i++) await new Promise((r) => setTimeout(r, 25));
      expect(issued).to.have.length(n);
    };
    for (let i = 0; i < 10; i++) await users.create(w(`r-${i}`));
    await waitIssued(10);
    const leader = loops.find((l) => l.leading.length > 0)!;
    const follower = loops.find((l) => l !== leader)!;
    expect(follower.leading).to.deep.equal([]);
    expect(new Set(issued.map((line) => line.split(' ')[1]))).to.deep.equal(new Set([leader.name]));

    await leader.loop.stop();
    for (let i = 10; i < 15; i++) await users.create(w(`r-${i}`));
    await waitIssued(15);
    expect(follower.leading).to.have.length(1);
    expect(issued.slice(10).every((line) => line.endsWith(` ${follower.name}`))).to.equal(true);
    const keys = await users.list<KeyPairSpec>({ namespace: 'secrets', type: 'KeyPairs' });
    expect(keys.map((k) => k.metadata.version)).to.deep.equal(Array(15).fill(1));
    expect(keys.filter((k) => (JSON.parse(k.spec.key) as Issuance).by === follower.name)).to.have.length(5);
    await follower.loop.stop();
  });
});
