import { expect } from 'chai';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { IntegrityError, UnavailableError } from '../../src/runtime/errors.js';
import { SCHEMA_VERSION, migrate, openSqliteState } from '../../src/runtime/sqlite/index.js';
import type { SqliteState, SqliteStateOptions } from '../../src/runtime/sqlite/index.js';
import type { KeyPairSpec } from '../fixtures-runtime/definitions.js';
import { testRegistry } from '../fixtures-runtime/definitions.js';
import { rejection } from '../support/caught.js';

const WRITER = fileURLToPath(new URL('../fixtures-runtime/state-writer.js', import.meta.url));
const kp = (id: string) => ({ namespace: 'secrets', type: 'KeyPairs', id });

describe('SqliteState: the store file', () => {
  let dir: string;
  let path: string;
  const open: SqliteState[] = [];
  const openState = async (options: Partial<SqliteStateOptions> = {}) => {
    const s = await openSqliteState({ path, registry: testRegistry(), ...options });
    open.push(s);
    return s;
  };
  const files = () => readdirSync(dir).sort();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tp-store-file-'));
    path = join(dir, 'state.db');
  });

  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('an emptied store beside its key', () => {
    beforeEach(async () => {
      await (await openState()).create<KeyPairSpec>({ metadata: kp('os'), spec: { key: 'k' } });
      for (const s of open.splice(0)) await s.close();
      writeFileSync(path, '');
    });

    for (const readOnly of [false, true]) {
      it(`is refused${readOnly ? ' by a read-only open' : ''}, not treated as a new store, and stays empty`, async () => {
        const before = files();
        const err = await rejection(openState({ readOnly }));
        expect(err).to.be.instanceOf(UnavailableError);
        expect(err.message).to.contain(`"${path}" is empty but "${path}.key" exists: restore the store or remove both`);
        expect(statSync(path).size).to.equal(0);
        expect(files()).to.deep.equal(before);
      });
    }
  });

  describe('a read-only open', () => {
    it('refuses a missing store and creates nothing: no file, no key', async () => {
      const err = await rejection(openState({ readOnly: true }));
      expect(err.message).to.contain(`"${path}" does not exist: a read-only open never creates a store`);
      expect(files()).to.deep.equal([]);
    });

    it('reads a store without writing to it: no key file made, no key check stored', async () => {
      const writer = await openState({ encryptionKey: 'none' });
      await writer.create({ metadata: { namespace: 'default', type: 'Widgets', id: 'a' }, spec: { size: 2 } });
      await writer.close();
      open.splice(0);
      const reader = await openState({ readOnly: true });
      expect((await reader.list({ namespace: 'default', type: 'Widgets' })).map((r) => r.metadata.id)).to.deep.equal(['a']);
      expect(existsSync(`${path}.key`)).to.equal(false);
      const err = await rejection(reader.create({ metadata: { namespace: 'default', type: 'Widgets', id: 'b' }, spec: { size: 1 } }));
      expect(err.message).to.contain('was opened read-only');
      await reader.close();
      const db = new Database(path, { readonly: true });
      expect(db.prepare('SELECT count(*) FROM store_meta').pluck().get()).to.equal(0);
      expect(db.prepare('SELECT count(*) FROM resources').pluck().get()).to.equal(1);
      db.close();
    });

    it('reads what writers killed by SIGKILL mid-write committed (their WAL still to recover)', async function () {
      this.timeout(60_000);
      const acked: string[] = [];
      // A kill inside a commit leaves a WAL index that must be rebuilt before anyone reads: a few rounds find one.
      for (let round = 0; round < 4; round++) {
        const writer = spawn(process.execPath, [WRITER, 'loop', path], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, CRASH_ROUND: String(round) } });
        let count = 0;
        await new Promise<void>((resolve) => {
          createInterface({ input: writer.stdout }).on('line', (line) => {
            if (line === 'ready') writer.stdin.write('go\n');
            const [tag, what, id] = line.split(' ');
            if (tag === 'ack' && what === 'create') acked.push(id);
            if (tag === 'ack' && ++count === 20) setImmediate(() => writer.kill('SIGKILL'));
          });
          writer.on('close', () => resolve());
        });
        const reader = await openState({ readOnly: true });
        const ids = (await reader.list({ namespace: 'default', type: 'Widgets' })).map((r) => r.metadata.id);
        expect(ids, `round ${round}`).to.include.members(acked);
        await reader.close();
        open.splice(0);
      }
    });

    it('refuses a store at an older schema without migrating it', async () => {
      const db = new Database(path);
      migrate(db, path, 1);
      db.close();
      const err = await rejection(openState({ readOnly: true }));
      expect(err.message).to.contain(`"${path}" has schema version 1, older than this trustplane's (${SCHEMA_VERSION}): run trustctl serve on it once to upgrade it`);
      const after = new Database(path, { readonly: true });
      expect(after.prepare('SELECT max(version) FROM schema_version').pluck().get()).to.equal(1);
      after.close();
    });

    it('still refuses a sensitive spec in the clear when a key lies beside a store that never sealed one', async () => {
      const writer = await openState({ encryptionKey: 'none' });
      await writer.create<KeyPairSpec>({ metadata: kp('os'), spec: { key: 'plain' } });
      await writer.close();
      open.splice(0);
      // The key check row gone (as an editor without the key would leave it) but the key file in place.
      writeFileSync(`${path}.key`, `${Buffer.alloc(32, 7).toString('base64')}\n`, { mode: 0o600 });
      const reader = await openState({ readOnly: true });
      expect(await rejection(reader.get(kp('os')))).to.be.instanceOf(IntegrityError);
    });
  });

  it('names a corrupt store file and the way out, for a writer and a reader', async () => {
    writeFileSync(path, 'this is not a database; '.repeat(200));
    for (const readOnly of [false, true]) {
      const err = await rejection(openState({ readOnly }));
      expect(err).to.be.instanceOf(UnavailableError);
      expect(err.message).to.match(new RegExp(`"${path}" is corrupt \\(file is not a database\\): restore it from a snapshot you trust`));
    }
  });
});
