import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdState, parseEtcdUrl } from '../../src/runtime/etcd/index.js';
import { ValidationError } from '../../src/runtime/errors.js';
import { SqliteState } from '../../src/runtime/sqlite/index.js';
import { leaderElectorFor, openStateFromUrl } from '../../src/runtime/store-url.js';
import { testRegistry } from '../fixtures-runtime/definitions.js';
import { startEtcd } from '../support/etcd-server.js';
import type { EtcdServer } from '../support/etcd-server.js';

describe('store URLs (--store)', () => {
  it('reads etcd://HOST:PORT,HOST:PORT/PREFIX into endpoints and a key prefix', () => {
    expect(parseEtcdUrl('etcd://10.0.0.1:2379,etcd-b:2379/clusters/a/')).to.deep.equal({
      hosts: ['http://10.0.0.1:2379', 'http://etcd-b:2379'],
      prefix: '/clusters/a',
    });
    expect(parseEtcdUrl('etcd://127.0.0.1:2379').prefix).to.equal('/trustplane');
  });

  it('refuses an etcd URL without a port or scheme, naming the part and the expected form', () => {
    expect(() => parseEtcdUrl('etcd://127.0.0.1/x')).to.throw(ValidationError, /^store: "127\.0\.0\.1" in "etcd:\/\/127\.0\.0\.1\/x" is not HOST:PORT/);
    expect(() => parseEtcdUrl('http://127.0.0.1:2379/x')).to.throw(ValidationError, /expected etcd:\/\/HOST:PORT/);
  });

  it('opens a SQLite store from sqlite:PATH or a plain path, and refuses other schemes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-store-url-'));
    try {
      const a = await openStateFromUrl(`sqlite:${join(dir, 'a.db')}`, { registry: testRegistry(), encryptionKey: 'none' });
      const b = await openStateFromUrl(join(dir, 'b.db'), { registry: testRegistry(), encryptionKey: 'none' });
      expect(a).to.be.instanceOf(SqliteState);
      expect(b).to.be.instanceOf(SqliteState);
      expect(await leaderElectorFor(a, { name: 'n' })).to.equal(undefined);
      await a.close();
      await b.close();
      const err = await openStateFromUrl('redis://x:1/p', { registry: testRegistry() }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ValidationError).with.property('message').that.match(/^store: "redis:\/\/x:1\/p" is not a store/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('on a running etcd', () => {
    let server: EtcdServer;
    before(async function () {
      this.timeout(30_000);
      server = await startEtcd();
    });
    after(async () => server?.stop());

    it('opens an etcd store and offers a leader elector for it', async () => {
      const state = await openStateFromUrl(`etcd://${server.endpoint}/url`, { registry: testRegistry(), encryptionKey: randomBytes(32) });
      try {
        expect(state).to.be.instanceOf(EtcdState);
        expect(state.encryptedAtRest).to.equal(true);
        const elector = await leaderElectorFor(state, { name: 'n', ttlSeconds: 2 });
        const term = await elector!.campaign(new AbortController().signal);
        expect(term.holder).to.match(/^n \(term \d+\)$/);
        await term.resign();
      } finally {
        await state.close();
      }
    });
  });
});
