// The etcd State backend beside the SQLite one, the same operations in one run (alternating chunks so machine load
// falls on both alike), plus raw etcd3 doing the single CAS transaction a write minimally needs, as the floor. Then
// watch delivery latency and leader failover time (SIGKILL of the leader process to a successor's election).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Subscription } from 'rxjs';
import { openEtcdState } from '../src/runtime/etcd/index.js';
import type { Resource } from '../src/runtime/resource.js';
import { openSqliteState } from '../src/runtime/sqlite/index.js';
import type { State } from '../src/runtime/state.js';
import type { WidgetSpec } from '../test/fixtures-runtime/definitions.js';
import { testRegistry } from '../test/fixtures-runtime/definitions.js';
import { startEtcd } from '../test/support/etcd-server.js';

const OPS = 2_000;
const CHUNKS = 10;
const WATCHERS = 20;
const RATE = 200;
const LATENCY_SECONDS = 2;
const FAILOVERS = 3;
const TTL_SECONDS = 1;
const w = (id: string) => ({ namespace: 'default', type: 'Widgets', id });
const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));

function row(label: string, etcd: number, sqlite: number, raw: number | undefined, unit: string, higherIsBetter = true): void {
  const note = higherIsBetter ? '' : ' (lower is better)';
  const rawPart = raw === undefined ? '' : `  raw etcd ${fmt(raw).padStart(8)}  etcd/raw ${(etcd / raw).toFixed(2)}`;
  console.log(`${label.padEnd(32)} etcd ${fmt(etcd).padStart(8)} ${unit.padEnd(5)} sqlite ${fmt(sqlite).padStart(8)}  etcd/sqlite ${(etcd / sqlite).toFixed(3)}${rawPart}${note}`);
}

async function time(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Runs OPS of each contender in alternating chunks; returns ops/s of each. */
async function compare(label: string, contenders: ((i: number) => Promise<void>)[], withRaw: boolean): Promise<void> {
  const per = OPS / CHUNKS;
  const ms = contenders.map(() => 0);
  for (let c = 0; c < CHUNKS; c++) {
    for (const [k, op] of contenders.entries()) {
      ms[k] += await time(async () => {
        for (let i = c * per; i < (c + 1) * per; i++) await op(i);
      });
    }
  }
  const rates = ms.map((m) => (OPS / m) * 1000);
  row(label, rates[0], rates[1], withRaw ? rates[2] : undefined, 'op/s');
}

async function main(): Promise<void> {
  const server = await startEtcd();
  const dir = mkdtempSync(join(tmpdir(), 'tp-bench-etcd-'));
  const key = randomBytes(32);
  const url = `etcd://${server.endpoint}/bench`;
  const etcd = await openEtcdState({ url, registry: testRegistry(), encryptionKey: key });
  const sqlite = await openSqliteState({ path: join(dir, 'state.db'), registry: testRegistry(), encryptionKey: key });
  try {
    console.log(`etcd State (etcd 3.4, one local member, data in ${tmpdir()}) vs SQLite State (WAL), ${OPS.toLocaleString('en-US')} ops each;`);
    console.log('raw etcd = one etcd3 txn (CAS on mod_revision + put), the least a CAS write can cost on etcd');
    const raw = etcd.connection.client;
    const rawKey = (i: number) => `/bench-raw/r${i}`;
    const id = (i: number) => `r${String(i).padStart(5, '0')}`;
    await compare(
      'create',
      [
        async (i) => void (await etcd.create({ metadata: w(id(i)), spec: { size: i } })),
        async (i) => void (await sqlite.create({ metadata: w(id(i)), spec: { size: i } })),
        async (i) => void (await raw.if(rawKey(i), 'Create', '==', 0).then(raw.put(rawKey(i)).value(JSON.stringify({ size: i }))).commit()),
      ],
      true,
    );
    let e: Resource<WidgetSpec> = await etcd.get<WidgetSpec>(w(id(0)));
    let s: Resource<WidgetSpec> = await sqlite.get<WidgetSpec>(w(id(0)));
    let rawMod = (await raw.get(rawKey(0)).exec()).kvs[0].mod_revision;
    const rawCas = async (i: number) => {
      const res = await raw.if(rawKey(0), 'Mod', '==', rawMod).then(raw.put(rawKey(0)).value(JSON.stringify({ size: i }))).commit();
      rawMod = res.header.revision;
    };
    await compare(
      'CAS update',
      [
        async (i) => void (e = await etcd.update({ ...e, spec: { size: i } })),
        async (i) => void (s = await sqlite.update({ ...s, spec: { size: i } })),
        rawCas,
      ],
      true,
    );
    const secret = { metadata: { namespace: 'secrets', type: 'KeyPairs', id: 'k' }, spec: { key: 'x'.repeat(240) } };
    let es = await etcd.create<{ key: string }>(secret);
    let ss = await sqlite.create<{ key: string }>(secret);
    await compare(
      'CAS update, sensitive (sealed)',
      [
        async (i) => void (es = await etcd.update({ ...es, spec: { key: `${i}${'x'.repeat(240)}` } })),
        async (i) => void (ss = await sqlite.update({ ...ss, spec: { key: `${i}${'x'.repeat(240)}` } })),
      ],
      false,
    );
    await compare(
      'get',
      [async (i) => void (await etcd.get(w(id(i)))), async (i) => void (await sqlite.get(w(id(i)))), async (i) => void (await raw.get(rawKey(i)).exec())],
      true,
    );
    const LISTS = 5;
    const kind = { namespace: 'default', type: 'Widgets' };
    const listMs: number[] = [0, 0];
    for (let i = 0; i < LISTS; i++) {
      listMs[0] += await time(async () => void (await etcd.list(kind)));
      listMs[1] += await time(async () => void (await sqlite.list(kind)));
    }
    row(`list of ${OPS.toLocaleString('en-US')}`, listMs[0] / LISTS, listMs[1] / LISTS, undefined, 'ms', false);
    const le = await watchLatency(etcd);
    const ls = await watchLatency(sqlite);
    row(`watch delivery p50, ${WATCHERS} watchers`, le.p50, ls.p50, undefined, 'ms', false);
    row(`watch delivery p99, ${WATCHERS} watchers`, le.p99, ls.p99, undefined, 'ms', false);
    await failover(server.endpoint, key);
  } finally {
    await etcd.close();
    await sqlite.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Updates at RATE per second; every watcher records commit-to-delivery time. */
async function watchLatency(state: State): Promise<{ p50: number; p99: number }> {
  const sentAt = new Map<number, number>();
  const lat: number[] = [];
  const subs: Subscription[] = [];
  for (let i = 0; i < WATCHERS; i++) {
    subs.push(state.watchKind({ namespace: 'default', type: 'Widgets' }).subscribe((ev) => lat.push(performance.now() - (sentAt.get(ev.bookmark) ?? NaN))));
  }
  await new Promise((r) => setTimeout(r, 100));
  let current = await state.get<WidgetSpec>(w('r00001'));
  const total = RATE * LATENCY_SECONDS;
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i / RATE) * 1000;
    if (performance.now() < due) await new Promise((r) => setTimeout(r, due - performance.now()));
    const t0 = performance.now();
    const revision = (await state.revision()) + 1;
    sentAt.set(revision, t0);
    current = await state.update<WidgetSpec>({ ...current, spec: { size: i } });
  }
  await new Promise((r) => setTimeout(r, 200));
  for (const sub of subs) sub.unsubscribe();
  if (lat.length !== total * WATCHERS || lat.some(Number.isNaN)) throw new Error(`watchers got ${lat.length} events, expected ${total * WATCHERS}`);
  lat.sort((a, b) => a - b);
  const at = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))];
  return { p50: at(50), p99: at(99) };
}

/** SIGKILLs the leader of three replica processes FAILOVERS times; reports kill-to-new-leader time against TTL + 1 s. */
async function failover(endpoint: string, key: Buffer): Promise<void> {
  const script = fileURLToPath(new URL('../test/support/etcd-replica.js', import.meta.url));
  const times: number[] = [];
  for (let round = 0; round < FAILOVERS; round++) {
    const url = `etcd://${endpoint}/bench-failover-${round}`;
    const replicas = ['a', 'b', 'c'].map((name) => {
      const child = spawn(process.execPath, [script, url, name, String(TTL_SECONDS)], {
        env: { ...process.env, TRUSTPLANE_STATE_KEY: key.toString('base64') },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const lines: string[] = [];
      createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
      return { name, child, lines };
    });
    const leaders = () => replicas.filter((r) => r.lines.includes(`leader ${r.name}`));
    while (leaders().length === 0 || !replicas.every((r) => r.lines.includes('ready'))) await new Promise((r) => setTimeout(r, 10));
    const [first] = leaders();
    const t0 = performance.now();
    first.child.kill('SIGKILL');
    while (leaders().length < 2) await new Promise((r) => setTimeout(r, 5));
    times.push(performance.now() - t0);
    for (const r of replicas) r.child.kill('SIGKILL');
  }
  times.sort((a, b) => a - b);
  const target = (TTL_SECONDS + 1) * 1000;
  console.log(
    `${'failover (SIGKILL -> new leader)'.padEnd(32)} median ${fmt(times[Math.floor(times.length / 2)])} ms, max ${fmt(times[times.length - 1])} ms` +
      ` over ${FAILOVERS} kills; lease TTL ${TTL_SECONDS} s, target TTL + 1 s = ${target} ms, max/target ${(times[times.length - 1] / target).toFixed(2)}`,
  );
}

await main();
