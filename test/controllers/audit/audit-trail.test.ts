// The audit trail on a real SQLite store: the hash chain, head signatures, retention, two writers, and tampering
// done to the file with the sqlite3 CLI, as an intruder with write access to the disk would do it.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { AUDIT_OWNER, AuditRecorder, verifyStoredTrail } from '../../../src/controllers/audit/index.js';
import type { AuditEvent } from '../../../src/controllers/audit/index.js';
import { AUDIT_HEAD_POINTER, recordPointer } from '../../../src/controllers/audit/audit-recorder.js';
import { recordHash } from '../../../src/controllers/audit/canonical.js';
import { AuditRecords, nodeRegistry } from '../../../src/resources/index.js';
import type { AuditHeadSpec, AuditRecordSpec } from '../../../src/resources/index.js';
import { ManualClock } from '../../../src/runtime/manual-clock.js';
import { openSqliteState } from '../../../src/runtime/sqlite/index.js';
import type { Resource } from '../../../src/runtime/resource.js';
import type { State } from '../../../src/runtime/state.js';

const KIND = { namespace: AuditRecords.namespace, type: AuditRecords.type };
const event = (n: number): AuditEvent => ({ actor: 'CN=alice,O=os:admin', source: '10.0.0.9', action: 'certificate-issued', details: { ca: 'os', serial: `0${n}`, sans: ['a.example'] } });

describe('audit trail (hash chain in the SQLite store)', function () {
  this.timeout(20_000);
  let dir: string;
  let path: string;
  const key = randomBytes(32);
  const registry = nodeRegistry();
  const clock = new ManualClock(DateTime.fromISO('2026-12-05T10:00:00Z', { zone: 'utc' }));
  const open = (readOnly = false) => openSqliteState({ path, registry, clock, encryptionKey: key, readOnly });
  const specs = async (state: State) => (await state.list<AuditRecordSpec>(KIND)).map((r) => r.spec);
  /** Runs SQL on the closed store file with the sqlite3 CLI, then judges the file as `audit verify --state` does. */
  const tamperAndVerify = async (sql: string) => {
    execFileSync('sqlite3', [path, sql]);
    const state = await open(true);
    try {
      return await verifyStoredTrail(state);
    } finally {
      await state.close();
    }
  };
  const recordAll = async (recorder: AuditRecorder, from: number, to: number) => {
    for (let n = from; n <= to; n++) await recorder.record(event(n));
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'trustplane-audit-'));
    path = join(dir, 'state.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('links each record to the one before, signs the head every signEvery records, and verifies', async () => {
    const state = await open();
    const recorder = new AuditRecorder({ state, clock, flushDelayMs: 0, signEvery: 3 });
    await recordAll(recorder, 1, 5);
    const records = await specs(state);
    expect(records.map((r) => `${r.seq}:${r.action}`)).to.deep.equal(['1:certificate-issued', '2:certificate-issued', '3:certificate-issued', '4:chain-signed', '5:certificate-issued', '6:certificate-issued']);
    expect(records[0].prev).to.equal('0'.repeat(64));
    for (let i = 1; i < records.length; i++) expect(records[i].prev).to.equal(recordHash(records[i - 1]));
    expect(records[3].details).to.include({ through: 3, hash: recordHash(records[2]) });
    expect(records[1]).to.include({ actor: 'CN=alice,O=os:admin', source: '10.0.0.9', time: '2026-12-05T10:00:00.000Z' });
    expect(await verifyStoredTrail(state)).to.include({ ok: true, records: 6, first: 1, last: 6, signedThrough: 3, unsigned: 2 });
    await recorder.close();
    expect((await specs(state)).at(-1)).to.deep.include({ seq: 7, action: 'chain-signed' });
    await state.close();
  });

  it('commits a burst of records in one transaction (group commit), the first one waiting with the others', async () => {
    const state = await open();
    const batches: number[] = [];
    const batch = state.batch.bind(state);
    state.batch = async (ops) => {
      batches.push(ops.length);
      return batch(ops);
    };
    const recorder = new AuditRecorder({ state, clock, signEvery: 100, flushDelayMs: 10_000 });
    const first = recorder.record(event(1));
    for (let n = 2; n <= 9; n++) void recorder.record(event(n));
    // Nothing is written while the group gathers, the first record included: a burst costs one transaction.
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).to.deep.equal([]);
    await recorder.flushed();
    await first;
    expect(batches).to.deep.equal([9]);
    expect((await specs(state)).map((r) => r.details.serial)).to.deep.equal(['01', '02', '03', '04', '05', '06', '07', '08', '09']);
    expect(await verifyStoredTrail(state)).to.include({ ok: true, records: 9 });
    await recorder.close();
    await state.close();
  });

  it('commits a lone record on its own once flushDelayMs has passed, with nobody flushing', async () => {
    const state = await open();
    const recorder = new AuditRecorder({ state, clock, signEvery: 100, flushDelayMs: 20 });
    await recorder.record(event(1));
    expect((await specs(state)).map((r) => r.details.serial)).to.deep.equal(['01']);
    await recorder.close();
    await state.close();
  });

  it("signs the unsigned tail on the injected clock's timer", async () => {
    const state = await open();
    const recorder = new AuditRecorder({ state, clock, flushDelayMs: 0, signEvery: 100, signIntervalMs: 60_000 }).start();
    await recorder.record(event(1));
    await clock.advance({ seconds: 59 });
    await recorder.flushed();
    expect((await specs(state)).map((r) => r.action)).to.deep.equal(['certificate-issued']);
    await clock.advance({ seconds: 1 });
    await recorder.flushed();
    expect((await specs(state)).map((r) => r.action)).to.deep.equal(['certificate-issued', 'chain-signed']);
    expect(await verifyStoredTrail(state)).to.include({ ok: true, signedThrough: 1, unsigned: 0 });
    await recorder.close();
    await state.close();
  });

  describe('tampering with the file (sqlite3 CLI) is found and named', () => {
    beforeEach(async () => {
      const state = await open();
      const recorder = new AuditRecorder({ state, clock, flushDelayMs: 0, signEvery: 4 });
      await recordAll(recorder, 1, 8);
      await recorder.close();
      await state.close();
    });
    const where = (seq: number) => `type = 'AuditRecords' AND id = '${String(seq).padStart(12, '0')}'`;

    it('one byte of one record changed: names that record as edited', async () => {
      const verdict = await tamperAndVerify(`UPDATE resources SET spec = replace(spec, '"serial":"02"', '"serial":"03"') WHERE ${where(2)}`);
      expect(verdict.problem).to.deep.equal({ seq: 2, kind: 'edited', message: 'record 2 was edited: its hash no longer matches the one record 3 carries' });
    });

    it('one record deleted: names it as removed', async () => {
      const verdict = await tamperAndVerify(`DELETE FROM resources WHERE ${where(6)}`);
      expect(verdict.problem).to.deep.equal({ seq: 6, kind: 'removed', message: 'record 6 was removed' });
    });

    it('two records swapped: names the first one out of place as reordered', async () => {
      const verdict = await tamperAndVerify(`UPDATE resources SET id = 'x' WHERE ${where(3)}; UPDATE resources SET id = '000000000003' WHERE ${where(4)}; UPDATE resources SET id = '000000000004' WHERE type = 'AuditRecords' AND id = 'x';`);
      expect(verdict.problem).to.include({ seq: 3, kind: 'reordered' });
    });

    it('the newest record edited, or the newest records cut off: found against the head', async () => {
      const edited = await tamperAndVerify(`UPDATE resources SET spec = replace(spec, '"actor":"AuditTrail"', '"actor":"AuditTrajl"') WHERE ${where(10)}`);
      expect(edited.problem).to.deep.equal({ seq: 10, kind: 'edited', message: "record 10 was edited: its hash no longer matches the trail's signed head" });
      const cut = await tamperAndVerify(`DELETE FROM resources WHERE type = 'AuditRecords' AND id > '000000000008'`);
      expect(cut.problem).to.deep.include({ seq: 9, kind: 'removed' });
    });

    it('a record rewritten with the chain recomputed after it, without the audit key: the head signature does not verify', async () => {
      const state = await open();
      const records = await state.list<AuditRecordSpec>(KIND);
      let prev = recordHash(records[0].spec);
      const rewritten: Resource<AuditRecordSpec>[] = [];
      for (const r of records.slice(1)) {
        const spec = { ...r.spec, prev, details: r.spec.seq === 2 ? { ...r.spec.details, serial: 'FORGED' } : r.spec.details };
        if (spec.action === 'chain-signed') spec.details = { ...spec.details, hash: prev };
        rewritten.push({ ...r, spec });
        prev = recordHash(spec);
      }
      const head = await state.get<AuditHeadSpec>(AUDIT_HEAD_POINTER);
      await state.batch([...rewritten.map((resource) => ({ op: 'update' as const, resource, owner: AUDIT_OWNER })), { op: 'update', resource: { ...head, spec: { ...head.spec, hash: prev } }, owner: AUDIT_OWNER }]);
      const verdict = await verifyStoredTrail(state);
      await state.close();
      expect(verdict.problem).to.include({ seq: 5, kind: 'signature' });
      expect(verdict.problem?.message).to.match(/^record 5: the head signature over record 4 does not verify with the store's audit key [0-9a-f]{16}$/);
    });
  });

  it('prunes by count, records the pruning with the hash of the last pruned record, and still verifies (and still finds a removal)', async () => {
    const state = await open();
    const recorder = new AuditRecorder({ state, clock, flushDelayMs: 0, signEvery: 100, retention: { maxCount: 5 } });
    await recordAll(recorder, 1, 8);
    const records = await specs(state);
    const pruned = records.filter((r) => r.action === 'pruned');
    expect(pruned.length).to.be.greaterThan(0);
    const last = pruned.at(-1)!;
    expect(records[0].seq).to.equal((last.details.through as number) + 1);
    expect(records[0].prev).to.equal(last.details.lastHash);
    expect(records.length).to.be.at.most(6);
    const verdict = await verifyStoredTrail(state);
    expect(verdict).to.include({ ok: true, first: records[0].seq });
    await recorder.close();
    await state.close();
    const first = records[0].seq;
    const removed = await tamperAndVerify(`DELETE FROM resources WHERE type = 'AuditRecords' AND id = '${String(first).padStart(12, '0')}'`);
    expect(removed.problem).to.include({ seq: first, kind: 'removed' });
  });

  it('prunes records older than maxAgeHours on the timer, and the trail verifies from its new start', async () => {
    const state = await open();
    const recorder = new AuditRecorder({ state, clock, flushDelayMs: 0, signEvery: 100, retention: { maxAgeHours: 24 } });
    await recordAll(recorder, 1, 3);
    await clock.advance({ hours: 25 });
    await recorder.record(event(4));
    await recorder.tick();
    const records = await specs(state);
    expect(records.map((r) => `${r.seq}:${r.action}`)).to.deep.equal(['4:certificate-issued', '5:chain-signed', '6:pruned']);
    expect(records[2].details).to.include({ from: 1, through: 3, count: 3 });
    expect(await verifyStoredTrail(state)).to.include({ ok: true, first: 4, last: 6 });
    await recorder.close();
    await state.close();
  });

  it('two recorders on one store (serve and a --state command) keep one chain', async () => {
    const a = await open();
    const b = await open();
    const ra = new AuditRecorder({ state: a, clock, flushDelayMs: 0, signEvery: 100 });
    const rb = new AuditRecorder({ state: b, clock, flushDelayMs: 0, signEvery: 100 });
    for (let n = 1; n <= 6; n++) await (n % 2 ? ra : rb).record(event(n));
    const records = await specs(a);
    expect(records.map((r) => r.details.serial)).to.deep.equal(['01', '02', '03', '04', '05', '06']);
    expect(await verifyStoredTrail(a)).to.include({ ok: true, records: 6 });
    await a.close();
    await b.close();
  });

  it('refuses a record that would hold a private key, writes nothing, and reports it', async () => {
    const state = await open();
    const errors: string[] = [];
    const recorder = new AuditRecorder({ state, clock, flushDelayMs: 0, onError: (m, f) => errors.push(`${m}: ${String(f.error)}`) });
    await recorder.record({ actor: 'local', action: 'certificate-issued', details: { key: '-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----' } });
    expect(errors).to.deep.equal(['audit record (certificate-issued) not written: audit details.key: holds a PEM block; record its serial or fingerprint instead']);
    expect(await specs(state)).to.deep.equal([]);
    expect(await state.find(recordPointer(1))).to.equal(undefined);
    await state.close();
  });
});
