// The audit trail's cost per certificate issued, beside issuance without it, measured in the same run and store:
// one issuance is what an issuing controller does (a fresh P-256 key, the leaf signed, the sealed set written), plus,
// with audit, the record handed to the recorder as the controllers do it (details read off the parsed certificate; not
// awaited), whose group commits and head signatures (every 64 records) then run between issuances. The figure is the
// whole difference per issuance, background commits included. Rounds alternate so drift hits both sides, and each
// round gives its own ratio: the median of those is the figure, as a burst of other work on this shared 2-core machine
// lands in one round and moves the mean of all. Target: audit cost < 5% of issuance time. AUDIT_BENCH_ROUNDS (default
// 40 rounds of 25) shortens a smoke run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateSecretsBundle } from '../src/config/index.js';
import { AuditRecorder, controllerActor, verifyStoredTrail } from '../src/controllers/audit/index.js';
import { certificateRequest } from '../src/controllers/issuing/certificate-request.js';
import { issueSet } from '../src/controllers/issuing/issue-set.js';
import { caFromPem } from '../src/pki/index.js';
import { ApiCertificates, nodeRegistry } from '../src/resources/index.js';
import type { IssuedCertificatesSpec } from '../src/resources/index.js';
import { openSqliteState } from '../src/runtime/sqlite/index.js';

const ROUNDS = Number(process.env.AUDIT_BENCH_ROUNDS ?? 40);
const PER_ROUND = 25;
const dir = mkdtempSync(join(tmpdir(), 'tp-bench-audit-'));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ms = (n: number) => `${n.toFixed(3)} ms`;

async function main(): Promise<void> {
  const bundle = await generateSecretsBundle();
  const ca = caFromPem(bundle.certs.os.crt, bundle.certs.os.key);
  const state = await openSqliteState({ path: join(dir, 'state.db'), registry: nodeRegistry(), encryptionKey: Buffer.alloc(32, 7) });
  const audit = new AuditRecorder({ state, onError: (m, f) => console.error(m, f) });
  const pointer = { namespace: ApiCertificates.namespace, type: ApiCertificates.type, id: 'api' };
  let n = 0;

  /** One controller issuance; with `recorder`, its audit record too. Returns [whole, handing the record over] in ms. */
  const issueOnce = async (recorder: AuditRecorder | undefined): Promise<[number, number]> => {
    const sans = { ips: [`10.9.${(n >> 8) & 255}.${n & 255}`], dnsNames: [] };
    n++;
    const t0 = performance.now();
    const plan = await issueSet('api', {}, [{ name: 'server', issuer: 'os', ca, request: certificateRequest('node-server', 'talos-node', [], 24, sans) }], new Date());
    await state.modify<IssuedCertificatesSpec>(pointer, () => ({ spec: { certificates: plan.certificates, acceptedCAs: [bundle.certs.os.crt] } }));
    let append = 0;
    if (recorder) {
      const a0 = performance.now();
      for (const i of plan.issued) void recorder.record({ actor: controllerActor('ApiCertificateController'), action: 'certificate-issued', details: { ...i.details, certificate: `ApiCertificates/api/${i.name}`, reason: i.reason } });
      append = performance.now() - a0;
    }
    return [performance.now() - t0, append];
  };

  for (let i = 0; i < 20; i++) await issueOnce(i % 2 ? audit : undefined); // warm-up
  const without: number[] = [];
  const withAudit: number[] = [];
  const appends: number[] = [];
  const batches: number[] = [];
  const batch = state.batch.bind(state);
  state.batch = async (ops) => {
    batches.push(ops.length);
    return batch(ops);
  };
  // CPU time of this process per side: steadier than wall time on a shared machine.
  const cpu = { without: 0, with: 0 };
  const roundRatios: number[] = [];
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1000;
  };
  for (let round = 0; round < ROUNDS; round++) {
    // Each side starts with no commit of the other pending.
    await audit.flushed();
    let c0 = process.cpuUsage();
    for (let i = 0; i < PER_ROUND; i++) without.push((await issueOnce(undefined))[0]);
    cpu.without += cpuMs(c0);
    c0 = process.cpuUsage();
    for (let i = 0; i < PER_ROUND; i++) {
      const [whole, append] = await issueOnce(audit);
      withAudit.push(whole);
      appends.push(append);
    }
    // The last group's commit belongs to this side's cost.
    const t0 = performance.now();
    await audit.flushed();
    withAudit[withAudit.length - 1] += performance.now() - t0;
    cpu.with += cpuMs(c0);
    roundRatios.push(mean(withAudit.slice(-PER_ROUND)) / mean(without.slice(-PER_ROUND)) - 1);
  }
  await audit.close();
  const verdict = await verifyStoredTrail(state);
  await state.close();

  const base = mean(without);
  console.log(`issuance without audit (keygen + sign + sealed write)  mean ${ms(base)}  over ${without.length}`);
  console.log(`issuance with audit                                     mean ${ms(mean(withAudit))}  over ${withAudit.length}`);
  console.log(`handing the record over (on the issuing path)            mean ${ms(mean(appends))}`);
  console.log(`audit commits: ${batches.length} transactions for ${withAudit.length} records (${(withAudit.length / batches.length).toFixed(1)} per commit)`);
  const median = [...roundRatios].sort((a, b) => a - b)[Math.floor(roundRatios.length / 2)];
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  console.log(`audit cost per issuance: ${pct(median)} of issuance time, median of ${roundRatios.length} rounds, background commits included (target < 5%); mean of all ${pct((mean(withAudit) - base) / base)}`);
  console.log(`CPU per issuance: ${ms(cpu.without / without.length)} without, ${ms(cpu.with / withAudit.length)} with audit: ${(((cpu.with - cpu.without) / cpu.without) * 100).toFixed(2)}%`);
  console.log(`trail after the run: ${verdict.ok ? 'intact' : `BROKEN: ${verdict.problem?.message}`}, ${verdict.records} records`);
  if (!verdict.ok) process.exitCode = 1;
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
