import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { openEtcdState } from '../../src/runtime/etcd/index.js';
import type { EtcdState, EtcdStateOptions } from '../../src/runtime/etcd/index.js';
import { stateConformance } from './state-conformance.js';
import { startEtcd } from '../support/etcd-server.js';
import type { EtcdServer } from '../support/etcd-server.js';
import { AlreadyExistsError, ConflictError, EncryptionError, InvalidBookmarkError, NotFoundError, ValidationError } from '../../src/runtime/errors.js';
import type { Pointer } from '../../src/runtime/resource.js';
import { testRegistry } from '../fixtures-runtime/definitions.js';
import type { KeyPairSpec, WidgetSpec } from '../fixtures-runtime/definitions.js';
import { WatchCollector } from '../fixtures-runtime/watch-collector.js';

let server: EtcdServer;
let stores = 0;

before(async function () {
  this.timeout(30_000);
  server = await startEtcd();
});

after(async () => {
  await server?.stop();
});

const freshUrl = () => `etcd://${server.endpoint}/conformance-${process.pid}-${++stores}`;

stateConformance('etcd', async (registry) => {
  const url = freshUrl();
  const key = randomBytes(32);
  const options: EtcdStateOptions = { url, registry, encryptionKey: key };
  let current = await openEtcdState(options);
  const peers: EtcdState[] = [];
  return {
    state: current,
    reopen: async () => {
      await current.close();
      current = await openEtcdState(options);
      return current;
    },
    peer: async () => {
      const peer = await openEtcdState(options);
      peers.push(peer);
      return peer;
    },
    forge: async (to, with_) => {
      const { connection, keys } = current;
      const read = async (p: Pointer) => JSON.parse(((await connection.read([{ key: keys.resource(p) }])).kvs[0][0]).value.toString()) as Record<string, unknown>;
      const row = await read(to);
      delete row.s;
      delete row.x;
      if ('json' in with_) row.s = with_.json;
      else row.x = (await read(with_.copyOf)).x;
      await connection.txn([], [{ request_put: { key: keys.resource(to), value: Buffer.from(JSON.stringify(row)) } }]);
    },
    cleanup: async () => {
      for (const p of peers) await p.close();
      await current.close();
    },
  };
});

describe('EtcdState', () => {
  const opened: EtcdState[] = [];
  let url: string;
  const open = async (options: Partial<EtcdStateOptions> = {}) => {
    const s = await openEtcdState({ url, registry: testRegistry(), encryptionKey: key, ...options });
    opened.push(s);
    return s;
  };
  const key = randomBytes(32);
  const w = (id: string, size = 1) => ({ metadata: { namespace: 'default', type: 'Widgets', id }, spec: { size } });

  beforeEach(() => {
    url = freshUrl();
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });

  async function rawValues(prefix: string): Promise<string[]> {
    const state = await open();
    const kvs = await state.connection.client.getAll().prefix(prefix).strings();
    return Object.values(kvs);
  }

  it('seals sensitive specs before they reach etcd, in the resource and in the change log alike', async () => {
    const state = await open();
    await state.create<KeyPairSpec>({ metadata: { namespace: 'secrets', type: 'KeyPairs', id: 'os' }, spec: { key: 'PRIVATE-KEY-MATERIAL' } });
    await state.modify<KeyPairSpec>({ namespace: 'secrets', type: 'KeyPairs', id: 'os' }, () => ({ spec: { key: 'PRIVATE-KEY-MATERIAL-2' } }));
    await state.create(w('plain', 42));
    const raw = await rawValues(new URL(url.replace('etcd:', 'http:')).pathname);
    expect(raw.length).to.be.greaterThan(5);
    expect(raw.some((v) => v.includes('PRIVATE-KEY'))).to.equal(false);
    expect(raw.some((v) => v.includes('\\"size\\":42'))).to.equal(true);
    expect((await state.get<KeyPairSpec>({ namespace: 'secrets', type: 'KeyPairs', id: 'os' })).spec.key).to.equal('PRIVATE-KEY-MATERIAL-2');
  });

  it('refuses to open a store with another key, or without one once it holds encrypted data', async () => {
    await open();
    const wrong = await open({ encryptionKey: randomBytes(32) }).catch((e: unknown) => e);
    expect(wrong).to.be.instanceOf(EncryptionError);
    expect((wrong as Error).message).to.match(/is not the key store "etcd:\/\/.*" was encrypted with/);
    const none = await open({ encryptionKey: 'none' }).catch((e: unknown) => e);
    expect(none).to.be.instanceOf(EncryptionError);
    expect((none as Error).message).to.match(/holds encrypted data/);
  });

  it('asks for a key (environment or key file) when none is given', async () => {
    const saved = process.env.TRUSTPLANE_STATE_KEY;
    delete process.env.TRUSTPLANE_STATE_KEY;
    try {
      const err = await open({ encryptionKey: 'auto' }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(EncryptionError);
      expect((err as Error).message).to.match(/needs an encryption key: set TRUSTPLANE_STATE_KEY \(the same on every replica\) or give a keyFile/);
    } finally {
      if (saved !== undefined) process.env.TRUSTPLANE_STATE_KEY = saved;
    }
  });

  it('refuses a bookmark older than the retained change log with InvalidBookmarkError, and resumes from a retained one', async () => {
    const state = await open({ historyLimit: 8 });
    let cur = await state.create(w('a', 0));
    for (let i = 1; i <= 40; i++) cur = await state.update({ ...cur, spec: { size: i } });
    const old = new WatchCollector(state.watchKind({ namespace: 'default', type: 'Widgets' }, { since: 1 }));
    const err = await old.waitForError();
    expect(err).to.be.instanceOf(InvalidBookmarkError);
    expect((err as Error).message).to.match(/^bookmark 1 is older than the retained history \(oldest \d+\): the watch cannot resume, list again/);
    const revision = await state.revision();
    const recent = new WatchCollector(state.watchKind({ namespace: 'default', type: 'Widgets' }, { since: revision - 3 }));
    expect((await recent.waitFor(3)).map((e) => e.resource?.metadata.version)).to.deep.equal([39, 40, 41]);
    recent.stop();
  });

  it("resumes from a bookmark after etcd compacted its own history, since the store's change log still holds it", async () => {
    const state = await open();
    await state.create(w('a'));
    const bookmark = await state.revision();
    await state.create(w('b'));
    await state.create(w('c'));
    const { revision } = await state.connection.read([{ key: state.keys.revision }]);
    await state.connection.client.kv.compact({ revision, physical: true });
    const c = new WatchCollector(state.watchKind({ namespace: 'default', type: 'Widgets' }, { since: bookmark }));
    expect((await c.waitFor(2)).map((e) => e.resource?.metadata.id)).to.deep.equal(['b', 'c']);
    c.stop();
  });

  it('serializes writes from two clients: no increment is lost', async () => {
    const a = await open();
    const b = await open();
    await a.create(w('counter', 0));
    const bump = (s: EtcdState) => s.modify<WidgetSpec>(w('counter').metadata, (cur) => ({ spec: { size: (cur?.spec.size ?? 0) + 1 } }));
    await Promise.all(Array.from({ length: 30 }, (_, i) => bump(i % 2 ? a : b)));
    expect((await a.get<WidgetSpec>(w('counter').metadata)).spec.size).to.equal(30);
  });

  it("refuses up front a batch needing more operations than etcd's transaction limit, writing nothing", async () => {
    const state = await open();
    const before = await state.revision();
    const ops = Array.from({ length: 64 }, (_, i) => ({ op: 'create' as const, resource: w(`b-${i}`) }));
    const err = await state.batch(ops).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ValidationError);
    expect((err as Error).message).to.equal(
      "batch: 64 changes need 129 etcd operations in one transaction, over etcd's limit of 128: split the batch, or raise etcd's --max-txn-ops and the store's maxTxnOps",
    );
    expect(await state.revision()).to.equal(before);
    expect(await state.batch(ops.slice(0, 63))).to.have.length(63);
  });

  it("checks every write against etcd, not against what the client remembers of its own last writes", async () => {
    const a = await open();
    const b = await open();
    const x1 = await a.create(w('x', 1));
    await b.update({ ...(await b.get(w('x').metadata)), spec: { size: 2 } });
    const stale = await a.update({ ...x1, spec: { size: 3 } }).catch((e: unknown) => e);
    expect(stale).to.be.instanceOf(ConflictError);
    expect((stale as Error).message).to.equal('resource default/Widgets/x update conflict: expected version "1", actual version "2"');
    await b.create(w('y'));
    expect(await a.create(w('y')).catch((e: unknown) => e)).to.be.instanceOf(AlreadyExistsError);
    await a.create(w('z'));
    await b.destroy(w('z').metadata);
    expect(await a.addFinalizer(w('z').metadata, 'f').catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
    expect((await a.get<WidgetSpec>(w('x').metadata)).spec.size).to.equal(2);
  });
});
