import { expect } from 'chai';
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EncryptionError, IntegrityError, InvalidBookmarkError, UnavailableError } from '../../src/runtime/errors.js';
import { MIGRATIONS, SCHEMA_VERSION, migrate, openSqliteState } from '../../src/runtime/sqlite/index.js';
import type { SqliteState, SqliteStateOptions } from '../../src/runtime/sqlite/index.js';
import type { KeyPairSpec, WidgetSpec } from '../fixtures-runtime/definitions.js';
import { testRegistry } from '../fixtures-runtime/definitions.js';
import { WatchCollector } from '../fixtures-runtime/watch-collector.js';
import { stateConformance } from './state-conformance.js';

const run = promisify(execFile);
const writerScript = fileURLToPath(new URL('../fixtures-runtime/state-writer.js', import.meta.url));
const w = (id: string) => ({ namespace: 'default', type: 'Widgets', id });
const kp = (id: string) => ({ namespace: 'secrets', type: 'KeyPairs', id });

stateConformance('SQLite', async (registry) => {
  const dir = mkdtempSync(join(tmpdir(), 'tp-conformance-'));
  const path = join(dir, 'state.db');
  let current = await openSqliteState({ path, registry });
  return {
    state: current,
    reopen: async () => {
      await current.close();
      current = await openSqliteState({ path, registry });
      return current;
    },
    peer: () => openSqliteState({ path, registry, pollIntervalMs: 10 }),
    forge: async (to, with_) => {
      const db = new Database(path);
      try {
        const where = 'namespace = ? AND type = ? AND id = ?';
        const spec = 'json' in with_ ? with_.json : db.prepare(`SELECT spec FROM resources WHERE ${where}`).pluck().get(with_.copyOf.namespace, with_.copyOf.type, with_.copyOf.id);
        db.prepare(`UPDATE resources SET spec = ? WHERE ${where}`).run(spec, to.namespace, to.type, to.id);
      } finally {
        db.close();
      }
    },
    cleanup: async () => {
      await current.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteState', () => {
  let dir: string;
  let path: string;
  const open: SqliteState[] = [];
  const openState = async (options: Partial<SqliteStateOptions> = {}) => {
    const s = await openSqliteState({ path, registry: testRegistry(), ...options });
    open.push(s);
    return s;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tp-sqlite-'));
    path = join(dir, 'state.db');
  });

  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function refusal(promise: Promise<unknown>): Promise<Error> {
    try {
      await promise;
    } catch (err) {
      return err as Error;
    }
    throw new Error('expected a refusal');
  }

  describe('file and schema', () => {
    it('creates one WAL-mode file at the latest schema version, recording each migration', async () => {
      const state = await openState();
      expect(state.schemaVersion).to.equal(SCHEMA_VERSION);
      const db = new Database(path, { readonly: true });
      try {
        expect(db.pragma('journal_mode', { simple: true })).to.equal('wal');
        const versions = db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all();
        expect(versions).to.deep.equal(MIGRATIONS.map((m) => m.version));
      } finally {
        db.close();
      }
    });

    it('upgrades a file written at schema version 1 in place, keeping its resources and history', async () => {
      const db = new Database(path);
      migrate(db, path, 1);
      db.prepare('INSERT INTO resources VALUES (?, ?, ?, 1, ?, ?, ?, ?)').run(
        'default', 'Widgets', 'old', '', 'running',
        JSON.stringify({ ...w('old'), version: 1, owner: '', phase: 'running', created: 't', updated: 't', labels: {}, annotations: {}, finalizers: [] }),
        JSON.stringify({ size: 4 }),
      );
      db.prepare('INSERT INTO events (revision, kind, namespace, type, id, meta, spec) SELECT 1, ?, namespace, type, id, meta, spec FROM resources').run('created');
      db.close();
      const state = await openState({ encryptionKey: 'none' });
      expect(state.schemaVersion).to.equal(SCHEMA_VERSION);
      expect((await state.get<WidgetSpec>(w('old'))).spec.size).to.equal(4);
      expect(await state.revision()).to.equal(1);
      const updated = await state.update<WidgetSpec>({ ...(await state.get<WidgetSpec>(w('old'))), spec: { size: 5 } });
      expect(updated.metadata.version).to.equal(2);
    });

    it('refuses a file written by a newer trustplane, naming the versions and the fix', async () => {
      await (await openState()).close();
      open.splice(0);
      const db = new Database(path);
      db.prepare('INSERT INTO schema_version VALUES (99, ?)').run('later');
      db.close();
      const err = await refusal(openState());
      expect(err).to.be.instanceOf(UnavailableError);
      expect(err.message).to.contain(`schema version 99, newer than this trustplane understands (${SCHEMA_VERSION}): upgrade trustplane`);
    });

    it('refuses every call once closed, and completes its watchers', async () => {
      const state = await openSqliteState({ path, registry: testRegistry() });
      let completed = false;
      state.watchKind({ namespace: 'default', type: 'Widgets' }).subscribe({ complete: () => (completed = true) });
      await state.close();
      expect(completed).to.equal(true);
      expect(await refusal(state.get(w('a')))).to.be.instanceOf(UnavailableError).with.property('message').that.contains('is closed');
      expect(await refusal(state.create({ metadata: w('a'), spec: { size: 1 } }))).to.be.instanceOf(UnavailableError);
    });

    it('keeps the event log within the history limit, pruning on write', async () => {
      const state = await openState({ historyLimit: 5 });
      for (let i = 0; i < 12; i++) await state.create({ metadata: w(`r${i}`), spec: { size: i } });
      const db = new Database(path, { readonly: true });
      try {
        expect(db.prepare('SELECT revision FROM events ORDER BY revision').pluck().all()).to.deep.equal([8, 9, 10, 11, 12]);
      } finally {
        db.close();
      }
    });
  });

  describe('resuming watches', () => {
    it('errors a watch resumed from before the retained history with InvalidBookmarkError, and resumes from its edge', async () => {
      const state = await openState({ historyLimit: 5 });
      for (let i = 0; i < 12; i++) await state.create({ metadata: w(`r${i}`), spec: { size: i } });
      const tooOld = new WatchCollector(state.watchKind({ namespace: 'default', type: 'Widgets' }, { since: 6 }));
      const err = await tooOld.waitForError();
      expect(err).to.be.instanceOf(InvalidBookmarkError);
      expect((err as Error).message).to.equal(
        'bookmark 6 is older than the retained history (oldest 8): the watch cannot resume, list again and watch from the new revision',
      );
      const edge = new WatchCollector(state.watchKind({ namespace: 'default', type: 'Widgets' }, { since: 7 }));
      expect((await edge.waitFor(5)).map((e) => e.bookmark)).to.deep.equal([8, 9, 10, 11, 12]);
      edge.stop();
    });

    it('resumes a watch from its last bookmark after the store is reopened by a new process', async () => {
      const first = await openSqliteState({ path, registry: testRegistry() });
      const c = new WatchCollector(first.watchKind({ namespace: 'default', type: 'Widgets' }));
      await first.create({ metadata: w('a'), spec: { size: 1 } });
      const [seen] = await c.waitFor(1);
      c.stop();
      await first.close();
      await run(process.execPath, [writerScript, 'once', path, 'b', 'c']);
      const reopened = await openState();
      const resumed = new WatchCollector(reopened.watchKind({ namespace: 'default', type: 'Widgets' }, { since: seen.bookmark }));
      expect((await resumed.waitFor(2)).map((e) => e.resource?.metadata.id)).to.deep.equal(['b', 'c']);
      resumed.stop();
    });

    it('delivers writes made by another process on the same file to a live watch', async () => {
      const state = await openState({ pollIntervalMs: 20 });
      await state.create({ metadata: w('before'), spec: { size: 1 } });
      const c = new WatchCollector(state.watchKind({ namespace: 'default', type: 'Widgets' }));
      await run(process.execPath, [writerScript, 'once', path, 'x1', 'x2', 'x3']);
      const events = await c.waitFor(3);
      expect(events.map((e) => `${e.type}:${e.resource?.metadata.id}`)).to.deep.equal(['created:x1', 'created:x2', 'created:x3']);
      expect(events.map((e) => e.bookmark)).to.deep.equal([2, 3, 4]);
      c.stop();
    });

    it('lets two processes create the same new store at once, agreeing on its schema and key', async () => {
      await Promise.all([
        run(process.execPath, [writerScript, 'once', path, 'p1-a', 'p1-b']),
        run(process.execPath, [writerScript, 'once', path, 'p2-a', 'p2-b']),
      ]);
      const state = await openState();
      const ids = (await state.list({ namespace: 'default', type: 'Widgets' })).map((r) => r.metadata.id);
      expect(ids).to.deep.equal(['p1-a', 'p1-b', 'p2-a', 'p2-b']);
      expect(state.schemaVersion).to.equal(SCHEMA_VERSION);
      await state.create({ metadata: kp('after'), spec: { key: 'readable with the one key file' } });
      expect((await state.get<KeyPairSpec>(kp('after'))).spec.key).to.equal('readable with the one key file');
    });

    it('retries modify when another client updated the resource between read and write', async () => {
      const state = await openState();
      const peer = await openState();
      await state.create({ metadata: w('n'), spec: { size: 0 } });
      let calls = 0;
      const result = await state.modify<WidgetSpec>(w('n'), (cur) => {
        calls++;
        // The first time round, another client bumps the counter before our write lands.
        if (calls === 1) void peer.update({ ...cur!, spec: { size: 100 } });
        return { spec: { size: (cur?.spec.size ?? 0) + 1 } };
      });
      expect(calls).to.equal(2);
      expect(result?.spec.size).to.equal(101);
      expect(result?.metadata.version).to.equal(3);
    });
  });

  describe('encryption at rest', () => {
    const pem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

    it('creates the store 0600 and a 0600 key file beside it on first open, and reports encryption at rest', async () => {
      const state = await openState();
      expect(state.encryptedAtRest).to.equal(true);
      expect(statSync(`${path}.key`).mode & 0o777).to.equal(0o600);
      expect(statSync(path).mode & 0o777).to.equal(0o600);
      expect(statSync(`${path}-wal`).mode & 0o777).to.equal(0o600);
      expect(Buffer.from(readFileSync(`${path}.key`, 'utf8').trim(), 'base64')).to.have.length(32);
      expect(state.keyOrigin).to.equal(`key file "${path}.key"`);
    });

    it('leaves no private key material in the database file or its WAL, while plain specs are stored readably', async () => {
      const state = await openState();
      const secret = pem();
      const body = secret.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
      const der = Buffer.from(body, 'base64');
      let r = await state.create<KeyPairSpec>({ metadata: kp('os'), spec: { key: secret } });
      for (let i = 0; i < 3; i++) r = await state.update<KeyPairSpec>({ ...r, spec: { key: `${secret}\n#${i}` } });
      await state.create({ metadata: w('control'), spec: { size: 1, color: 'plainly-visible-marker' } });
      const raw = () => Buffer.concat([readFileSync(path), existsSync(`${path}-wal`) ? readFileSync(`${path}-wal`) : Buffer.alloc(0)]);
      const check = (bytes: Buffer) => {
        expect(bytes.includes('plainly-visible-marker'), 'the control marker should be found').to.equal(true);
        expect(bytes.includes('PRIVATE KEY')).to.equal(false);
        expect(bytes.includes(body.slice(0, 40))).to.equal(false);
        expect(bytes.includes(body.slice(-40))).to.equal(false);
        expect(bytes.includes(der.subarray(8, 40))).to.equal(false);
      };
      expect(existsSync(`${path}-wal`)).to.equal(true);
      check(raw());
      expect((await state.get<KeyPairSpec>(kp('os'))).spec.key).to.equal(`${secret}\n#2`);
      await state.close();
      check(readFileSync(path));
    });

    it("verifySealing passes a plain type's history whatever it holds, and names a superseded event of a secret forged without the key", async () => {
      let state = await openState();
      await state.create<KeyPairSpec>({ metadata: kp('os'), spec: { key: 'k1' } });
      await state.modify<KeyPairSpec>(kp('os'), () => ({ spec: { key: 'k2' } }));
      await state.create({ metadata: w('a'), spec: { size: 1 } });
      await state.close();
      const db = new Database(path);
      // A plain type's history is never unsealed (a spec that is not even JSON passes); a secret's first event,
      // superseded since, written in the clear is found.
      db.prepare(`UPDATE events SET spec = 'not json' WHERE type = 'Widgets'`).run();
      db.close();
      state = await openState();
      await state.verifySealing();
      await state.close();
      const forge = new Database(path);
      const first = forge.prepare(`SELECT min(revision) FROM events WHERE type = 'KeyPairs'`).pluck().get() as number;
      forge.prepare('UPDATE events SET spec = ? WHERE revision = ?').run(JSON.stringify({ key: 'attacker key' }), first);
      forge.close();
      state = await openState();
      const err = await refusal(state.verifySealing());
      expect(err).to.be.instanceOf(IntegrityError);
      expect(err.message).to.contain('secrets/KeyPairs/os is not sealed');
    });

    it('refuses to open with a key other than the one the store was written with, naming the fix', async () => {
      const state = await openSqliteState({ path, registry: testRegistry() });
      await state.create({ metadata: kp('os'), spec: { key: 'secret' } });
      await state.close();
      const err = await refusal(openState({ encryptionKey: randomBytes(32) }));
      expect(err).to.be.instanceOf(EncryptionError);
      expect(err.message).to.contain(`is not the key store "${path}" was encrypted with`);
      expect(err.message).to.contain('restore');
    });

    it('refuses to open a store with encrypted data when its key file is missing, without making a new key', async () => {
      const state = await openSqliteState({ path, registry: testRegistry() });
      await state.create({ metadata: kp('os'), spec: { key: 'secret' } });
      await state.close();
      rmSync(`${path}.key`);
      const err = await refusal(openState());
      expect(err).to.be.instanceOf(EncryptionError);
      expect(err.message).to.equal(
        `state key file "${path}.key" is missing but store "${path}" holds encrypted data: restore the key file (mode 0600) or set TRUSTPLANE_STATE_KEY to the store's key`,
      );
      expect(existsSync(`${path}.key`)).to.equal(false);
      const none = await refusal(openState({ encryptionKey: 'none' }));
      expect(none).to.be.instanceOf(EncryptionError);
    });

    it('refuses a key file that others can read', async () => {
      await (await openState()).close();
      open.splice(0);
      chmodSync(`${path}.key`, 0o644);
      const err = await refusal(openState());
      expect(err).to.be.instanceOf(EncryptionError);
      expect(err.message).to.contain(`run chmod 600 "${path}.key"`);
    });

    it('takes the key from TRUSTPLANE_STATE_KEY, and names the variable when it is malformed', async () => {
      const saved = process.env.TRUSTPLANE_STATE_KEY;
      try {
        const key = randomBytes(32);
        process.env.TRUSTPLANE_STATE_KEY = key.toString('base64');
        const state = await openState();
        expect(state.keyOrigin).to.equal('TRUSTPLANE_STATE_KEY');
        expect(existsSync(`${path}.key`)).to.equal(false);
        await state.create({ metadata: kp('os'), spec: { key: 'from-env' } });
        await state.close();
        open.splice(0);
        const again = await openState({ encryptionKey: key });
        expect((await again.get<KeyPairSpec>(kp('os'))).spec.key).to.equal('from-env');
        process.env.TRUSTPLANE_STATE_KEY = 'too-short';
        const err = await refusal(openState({ path: join(dir, 'other.db') }));
        expect(err).to.be.instanceOf(EncryptionError);
        expect(err.message).to.contain('TRUSTPLANE_STATE_KEY must hold the base64 of exactly 32 bytes');
      } finally {
        if (saved === undefined) delete process.env.TRUSTPLANE_STATE_KEY;
        else process.env.TRUSTPLANE_STATE_KEY = saved;
      }
    });

    it("stores sensitive specs in the clear only when told encryptionKey 'none', and says so", async () => {
      const state = await openState({ encryptionKey: 'none' });
      expect(state.encryptedAtRest).to.equal(false);
      await state.create({ metadata: kp('a'), spec: { key: 'visible-on-purpose' } });
      expect(readFileSync(`${path}-wal`).includes('visible-on-purpose')).to.equal(true);
    });
  });
});
