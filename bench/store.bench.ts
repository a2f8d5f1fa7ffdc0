// The SQLite State store against raw better-sqlite3 running the same SQL on the same schema, in the same run:
// create, CAS update (with 100 watchers attached, and for a sensitive type), get, list of 10k, and watch delivery
// latency with 100 watchers at 1,000 updates/s. Targets: CAS updates with watchers >= 50% of raw; watch p99 < 5 ms.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Subscription } from 'rxjs';
import type { Resource } from '../src/runtime/resource.js';
import { migrate, openSqliteState } from '../src/runtime/sqlite/index.js';
import type { SqliteState } from '../src/runtime/sqlite/index.js';
import type { WidgetSpec } from '../test/fixtures-runtime/definitions.js';
import { testRegistry } from '../test/fixtures-runtime/definitions.js';

const OPS = 10_000;
const WATCHERS = 100;
const RATE = 1_000;
const LATENCY_SECONDS = 3;
const dir = mkdtempSync(join(tmpdir(), 'tp-bench-store-'));
const w = (id: string) => ({ namespace: 'default', type: 'Widgets', id });

function row(label: string, ours: number, raw: number, unit: string, higherIsBetter = true): void {
  const ratio = ours / raw;
  const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(3));
  console.log(
    `${label.padEnd(34)} trustplane ${fmt(ours).padStart(9)} ${unit.padEnd(6)} raw ${fmt(raw).padStart(9)} ${unit.padEnd(6)} ratio ${ratio.toFixed(2)}${higherIsBetter ? '' : ' (lower is better)'}`,
  );
}

function rate(n: number, ms: number): number {
  return (n / ms) * 1000;
}

async function timeAsync(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function timeSync(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Runs OPS of each side in alternating chunks, so load from elsewhere on the machine falls on both alike,
 * and prints their rates side by side.
 */
async function compare(label: string, ours: (i: number) => Promise<void>, raw: (i: number) => void, chunks = 20): Promise<void> {
  const per = OPS / chunks;
  let oursMs = 0;
  let rawMs = 0;
  for (let c = 0; c < chunks; c++) {
    const from = c * per;
    oursMs += await timeAsync(async () => {
      for (let i = from; i < from + per; i++) await ours(i);
    });
    rawMs += timeSync(() => {
      for (let i = from; i < from + per; i++) raw(i);
    });
  }
  row(label, rate(OPS, oursMs), rate(OPS, rawMs), 'ops/s');
}

/** A raw better-sqlite3 database with the store's schema and the statements the store runs. */
function openRaw(name: string) {
  const path = join(dir, name);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  migrate(db, path);
  const meta = (id: string, version: number) =>
    JSON.stringify({ ...w(id), version, owner: '', phase: 'running', created: new Date().toISOString(), updated: new Date().toISOString(), labels: {}, annotations: {}, finalizers: [] });
  const insert = db.prepare('INSERT INTO resources (namespace, type, id, version, owner, phase, meta, spec) VALUES (?, ?, ?, 1, ?, ?, ?, ?)');
  const update = db.prepare('UPDATE resources SET version = ?, phase = ?, meta = ?, spec = ? WHERE namespace = ? AND type = ? AND id = ? AND version = ?');
  const get = db.prepare('SELECT version, owner, phase, meta, spec FROM resources WHERE namespace = ? AND type = ? AND id = ?');
  const list = db.prepare('SELECT id, meta, spec FROM resources WHERE namespace = ? AND type = ? AND id >= ? ORDER BY id');
  const txn = db.transaction((fn: () => void) => fn());
  return {
    db,
    create: (id: string, size: number) => txn.immediate(() => insert.run('default', 'Widgets', id, '', 'running', meta(id, 1), JSON.stringify({ size }))),
    cas: (id: string, version: number, size: number, spec: string | Buffer = JSON.stringify({ size })) =>
      txn.immediate(() => {
        const r = update.run(version + 1, 'running', meta(id, version + 1), spec, 'default', 'Widgets', id, version);
        if (r.changes !== 1) throw new Error('conflict');
      }),
    get: (id: string) => get.get('default', 'Widgets', id),
    list: () => list.all('default', 'Widgets', ''),
  };
}

async function main(): Promise<void> {
  console.log(`SQLite State store vs raw better-sqlite3 (same schema and SQL, WAL, synchronous=NORMAL), ${OPS.toLocaleString('en-US')} ops each`);
  const state: SqliteState = await openSqliteState({ path: join(dir, 'store.db'), registry: testRegistry() });
  const raw = openRaw('raw.db');

  const id = (i: number) => `r${String(i).padStart(5, '0')}`;
  await compare('create', async (i) => void (await state.create({ metadata: w(id(i)), spec: { size: i } })), (i) => raw.create(id(i), i));

  let current: Resource<WidgetSpec> = await state.get<WidgetSpec>(w('r00000'));
  let rawVersion = 1;
  const rawCas = (i: number) => raw.cas('r00000', rawVersion++, i);
  await compare('CAS update', async (i) => void (current = await state.update<WidgetSpec>({ ...current, spec: { size: i } })), rawCas);

  // Each event goes to all 100 watchers.
  let delivered = 0;
  const subs: Subscription[] = [];
  for (let i = 0; i < WATCHERS; i++) subs.push(state.watchKind({ namespace: 'default', type: 'Widgets' }).subscribe(() => delivered++));
  await compare(`CAS update, ${WATCHERS} watchers`, async (i) => void (current = await state.update<WidgetSpec>({ ...current, spec: { size: i } })), rawCas);
  await Promise.resolve();
  if (delivered !== OPS * WATCHERS) throw new Error(`watchers got ${delivered} events, expected ${OPS * WATCHERS}`);
  for (const s of subs) s.unsubscribe();

  // A sensitive type: one AES-256-GCM seal per write.
  let secret = await state.create<{ key: string }>({ metadata: { namespace: 'secrets', type: 'KeyPairs', id: 'k' }, spec: { key: 'x'.repeat(240) } });
  // Raw writes a blob of the sealed size (12-byte IV + 16-byte tag + the JSON) without sealing it.
  const blob = (i: number) => Buffer.from(`${'\0'.repeat(28)}{"key":"${i}${'x'.repeat(240)}"}`);
  await compare(
    'CAS update, sensitive (sealed)',
    async (i) => void (secret = await state.update({ ...secret, spec: { key: `${i}${'x'.repeat(240)}` } })),
    (i) => raw.cas('r00000', rawVersion++, i, blob(i)),
  );

  await compare('get', async (i) => void (await state.get(w(id(i)))), (i) => void raw.get(id(i)));

  // list of 10k (ours decodes every resource; raw returns the rows)
  const LISTS = 10;
  let listed = 0;
  const oursList = await timeAsync(async () => {
    for (let i = 0; i < LISTS; i++) listed = (await state.list({ namespace: 'default', type: 'Widgets' })).length;
  });
  const rawList = timeSync(() => {
    for (let i = 0; i < LISTS; i++) raw.list();
  });
  if (listed !== OPS) throw new Error(`listed ${listed}, expected ${OPS}`);
  row(`list of ${OPS.toLocaleString('en-US')}`, oursList / LISTS, rawList / LISTS, 'ms', false);

  await watchLatency(state, raw);
  await state.close();
  raw.db.close();
}

/** Updates at RATE per second for LATENCY_SECONDS; each of WATCHERS watchers records commit-to-delivery time. */
async function watchLatency(state: SqliteState, raw: ReturnType<typeof openRaw>): Promise<void> {
  const total = RATE * LATENCY_SECONDS;
  const sentAt = new Map<number, number>();
  const ours: number[] = [];
  const subs: Subscription[] = [];
  for (let i = 0; i < WATCHERS; i++) {
    subs.push(
      state.watchKind({ namespace: 'default', type: 'Widgets' }).subscribe((e) => {
        ours.push(performance.now() - (sentAt.get(e.bookmark) ?? NaN));
      }),
    );
  }
  let current = await state.get<WidgetSpec>(w('r00001'));
  await paced(total, async (i) => {
    const revision = (await state.revision()) + 1;
    const t0 = performance.now();
    sentAt.set(revision, t0);
    current = await state.update<WidgetSpec>({ ...current, spec: { size: i } });
  });
  await new Promise((r) => setTimeout(r, 50));
  for (const s of subs) s.unsubscribe();

  // Baseline: the same UPDATE on raw better-sqlite3, then a direct synchronous call to each of the listeners.
  const rawLat: number[] = [];
  const listeners = Array.from({ length: WATCHERS }, () => (t0: number) => rawLat.push(performance.now() - t0));
  let version = 1;
  await paced(total, async (i) => {
    const t0 = performance.now();
    raw.cas('r00001', version++, i);
    for (const l of listeners) l(t0);
  });

  if (ours.length !== total * WATCHERS || ours.some(Number.isNaN)) throw new Error(`watchers got ${ours.length} events, expected ${total * WATCHERS}`);
  ours.sort((a, b) => a - b);
  rawLat.sort((a, b) => a - b);
  const label = `watch delivery, ${WATCHERS} watchers @${RATE}/s`;
  row(`${label} p50`, percentile(ours, 50), percentile(rawLat, 50), 'ms', false);
  row(`${label} p99`, percentile(ours, 99), percentile(rawLat, 99), 'ms', false);
}

/** Calls `op` `total` times at RATE per second, catching up after timer slack. */
async function paced(total: number, op: (i: number) => Promise<void>): Promise<void> {
  const start = performance.now();
  let i = 0;
  while (i < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE) + 1);
    while (i < due) await op(i++);
    await new Promise((r) => setTimeout(r, 1));
  }
}

try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
