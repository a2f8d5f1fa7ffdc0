// Controllers and runtime at scale, each figure beside a baseline measured in the same run:
// 1. latency from a MachineConfig change (certSANs) to the new apid certificate stored, p50/p99 over 200 changes,
//    beside the raw floor of the same work (P-256 keygen + one leaf issued + one raw better-sqlite3 write);
// 2. 100,000 certificate resources: start-up (list + build the renewal heap) beside raw better-sqlite3 reading the
//    same rows, memory, and the cost of a tick when 1% are due beside when none are.
// Targets: p99 < 50 ms; a tick costs in proportion to what is due; start-up < 3 s.
import Database from 'better-sqlite3';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DateTime } from 'luxon';
import { filter, firstValueFrom } from 'rxjs';
import { generateMachineConfig, generateSecretsBundle, parseMachineConfig } from '../src/config/index.js';
import { caFromPem, issueCertificate } from '../src/pki/index.js';
import { ApiCertificates, MACHINE_CONFIG_ID, MachineConfigs } from '../src/resources/index.js';
import type { IssuedCertificatesSpec, MachineConfigSpec } from '../src/resources/index.js';
import { exclusive, requeueAt } from '../src/runtime/controller.js';
import type { Controller } from '../src/runtime/controller.js';
import { ManualClock } from '../src/runtime/manual-clock.js';
import { ResourceRegistry, defineResource } from '../src/runtime/resource.js';
import { Runtime } from '../src/runtime/runtime.js';
import { openSqliteState } from '../src/runtime/sqlite/index.js';
import { TimerHeap } from '../src/runtime/timer-heap.js';
import { openNode } from '../src/server/node.js';

const dir = mkdtempSync(join(tmpdir(), 'tp-bench-controllers-'));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (n: number) => `${n.toFixed(2)} ms`;

async function reconcileLatency(): Promise<void> {
  const bundle = await generateSecretsBundle();
  const node = await openNode({ stateDir: join(dir, 'node'), addresses: { addresses: ['10.5.0.2'], hostname: 'bench-1' }, logger: () => undefined });
  const pointer = { namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID };
  const config = generateMachineConfig(bundle, { type: 'controlplane', clusterName: 'bench', endpoint: 'https://10.5.0.2:6443' });
  await node.state.create({ metadata: pointer, spec: { yaml: config.toYaml() } });
  await node.runtime.start();
  await node.runtime.settled();

  const latencies: number[] = [];
  for (let i = 0; i < 200; i++) {
    const ip = `10.9.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    const watched = firstValueFrom(
      node.state
        .watch<IssuedCertificatesSpec>({ namespace: 'secrets', type: ApiCertificates.type, id: 'api' })
        .pipe(filter((e) => e.resource?.spec.certificates.server?.request.ipAddresses.includes(ip) === true)),
    );
    const mc = await node.state.get<MachineConfigSpec>(pointer);
    const c = parseMachineConfig(mc.spec.yaml);
    c.certSANs = [ip];
    const t0 = performance.now();
    await node.state.update<MachineConfigSpec>({ ...mc, spec: { yaml: c.toYaml() } });
    await watched;
    latencies.push(performance.now() - t0);
    await node.runtime.settled();
  }
  await node.stop();

  // The floor of the same work: a fresh P-256 key, one leaf signed by the same CA, one row written by raw SQLite.
  const ca = caFromPem(bundle.certs.os.crt, bundle.certs.os.key);
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, spec TEXT)');
  const put = db.prepare('INSERT OR REPLACE INTO t (id, spec) VALUES (?, ?)');
  const raw: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const leaf = issueCertificate(ca, 'node-server', { publicKey: key.publicKey, ipAddresses: [`10.9.0.${i % 250}`] });
    put.run('api', JSON.stringify({ crt: leaf.certPem, key: key.privateKey.export({ type: 'sec1', format: 'pem' }) }));
    raw.push(performance.now() - t0);
  }
  db.close();
  console.log(`config change -> apid cert stored   p50 ${ms(pct(latencies, 50))}  p99 ${ms(pct(latencies, 99))}  (target p99 < 50 ms)`);
  console.log(`raw floor (keygen+sign+sqlite write) p50 ${ms(pct(raw, 50))}  p99 ${ms(pct(raw, 99))}`);
  console.log(`ratio p50 ${(pct(latencies, 50) / pct(raw, 50)).toFixed(1)}x the raw floor`);
}

// --- 100,000 certificates: a renewal controller that keeps its due times in one heap -----------------------------

interface FleetSpec {
  renewAt: number;
  generation: number;
}
const FleetCertificates = defineResource<FleetSpec>({
  type: 'FleetCertificates',
  aliases: [],
  namespace: 'fleet',
  sensitive: false,
  printColumns: [],
  validate: (s) => s as FleetSpec,
});
const N = 100_000;
const START = DateTime.fromISO('2030-01-01T00:00:00Z', { zone: 'utc' });
const HOUR = 3_600_000;

/** Renews what is due and asks to be woken at the next due time: work per tick is O(due log n), never O(n). */
function fleetController(stats: { renewed: number; reconciles: number }): Controller {
  let heap: TimerHeap<string> | undefined;
  return {
    name: 'FleetRenewalController',
    inputs: [],
    outputs: [exclusive(FleetCertificates)],
    async reconcile(rt) {
      stats.reconciles++;
      if (!heap) {
        heap = new TimerHeap<string>();
        for (const r of await rt.list(FleetCertificates, 'fleet')) heap.set(r.metadata.id, r.spec.renewAt);
      }
      const now = rt.clock.now().toMillis();
      for (const id of heap.popDue(now)) {
        const renewAt = now + 1000 * HOUR;
        await rt.modify(FleetCertificates, id, (c) => ({ renewAt, generation: (c?.spec.generation ?? 0) + 1 }));
        heap.set(id, renewAt);
        stats.renewed++;
      }
      const next = heap.peek();
      return requeueAt(next ? DateTime.fromMillis(next.at, { zone: 'utc' }) : undefined);
    },
  };
}

async function fleet(): Promise<void> {
  const path = join(dir, 'fleet.db');
  const registry = new ResourceRegistry([FleetCertificates]);
  {
    const state = await openSqliteState({ path, registry, encryptionKey: 'none' });
    // Due times spread over 100 hours after START: each hour, 1% of the fleet is due.
    for (let i = 0; i < N; i += 1000) {
      const ops = Array.from({ length: 1000 }, (_, j) => ({
        op: 'create' as const,
        owner: 'FleetRenewalController',
        resource: { metadata: { namespace: 'fleet', type: FleetCertificates.type, id: `cert-${i + j}` }, spec: { renewAt: START.toMillis() + ((i + j) % 100) * HOUR + HOUR, generation: 0 } },
      }));
      await state.batch(ops);
    }
    await state.close();
  }
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const clock = new ManualClock(START);
  const stats = { renewed: 0, reconciles: 0 };
  const t0 = performance.now();
  const state = await openSqliteState({ path, registry, clock, encryptionKey: 'none', historyLimit: 1_000_000 });
  const runtime = new Runtime({ state, registry, clock, logger: () => undefined });
  runtime.register(fleetController(stats));
  await runtime.start();
  await runtime.settled();
  const startup = performance.now() - t0;
  global.gc?.();
  const memory = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;

  const raw = new Database(path, { readonly: true });
  const r0 = performance.now();
  const rows = raw.prepare('SELECT id, meta, spec FROM resources WHERE namespace = ? AND type = ?').all('fleet', FleetCertificates.type) as { spec: string }[];
  for (const row of rows) JSON.parse(row.spec);
  const rawRead = performance.now() - r0;
  raw.close();

  // Nothing due: 100 ticks strictly between due times.
  const idleT0 = performance.now();
  const reconcilesBefore = stats.reconciles;
  for (let i = 0; i < 100; i++) await clock.advance({ seconds: 30 });
  const idleTick = (performance.now() - idleT0) / 100;
  const idleReconciles = stats.reconciles - reconcilesBefore;

  // 1% due: each of the next 5 hours brings 1,000 certificates due.
  await clock.set(START.plus({ minutes: 59 }));
  const dueTicks: number[] = [];
  for (let h = 1; h <= 5; h++) {
    const renewedBefore = stats.renewed;
    const t = performance.now();
    await clock.set(START.plus({ hours: h }));
    await runtime.settled();
    dueTicks.push(performance.now() - t);
    if (stats.renewed - renewedBefore !== N / 100) throw new Error(`expected ${N / 100} renewals at hour ${h}, got ${stats.renewed - renewedBefore}`);
  }
  await runtime.stop();
  await state.close();
  const dueTick = pct(dueTicks, 50);
  console.log(`100k certificates: start-up ${ms(startup)} (target < 3 s)  beside raw better-sqlite3 read of the same rows ${ms(rawRead)}  ratio ${(startup / rawRead).toFixed(1)}x`);
  console.log(`100k certificates: heap after start-up +${memory.toFixed(0)} MiB`);
  console.log(`tick with nothing due: ${ms(idleTick)} per tick, ${idleReconciles} reconciles in 100 ticks`);
  console.log(`tick with 1% (1,000) due: ${ms(dueTick)} = ${(dueTick / (N / 100)).toFixed(3)} ms per renewed certificate; ratio to an idle tick ${(dueTick / Math.max(idleTick, 0.001)).toFixed(0)}x`);
}

try {
  await reconcileLatency();
  if (!process.env.LATENCY_ONLY) await fleet();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
