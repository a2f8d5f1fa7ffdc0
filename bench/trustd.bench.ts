// trustd signing throughput against `cfssl serve` (Debian golang-cfssl), both signing the same P-256 CSR
// (shared/peers/p256.csr) with a P-256 CA under the same load: wrk -t2 -c20 --latency with shared/peers/wrk-sign.lua,
// one run each, in this process's run. trustd runs as it does in production (HTTPS, token, per-source rate limit set
// high enough not to refuse the load, signing from the node's SQLite store) on both cores through node:cluster: two
// workers share the listening socket. The machine is shared, so the two are measured in alternating slices (5 s each,
// 3 rounds, order swapped each round) and each figure is the median slice: load from elsewhere hits both alike.
// cfssl is measured twice: as shared/peers starts it (plain HTTP) and over TLS (`-tls-cert/-tls-key`, a P-256 server
// certificate), which is the like-for-like baseline since trustd serves HTTPS; the ratio is taken against the latter.
// Target: trustd >= 2x cfssl-over-TLS req/s at no worse p99.
// Needs wrk and cfssl (apt-get install -y wrk golang-cfssl); without them it says so and measures nothing.
import { spawn, spawnSync } from 'node:child_process';
import cluster from 'node:cluster';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DateTime } from 'luxon';
import { generateMachineConfig, generateSecretsBundle } from '../src/config/index.js';
import { MACHINE_CONFIG_ID, MachineConfigs, TrustdCertificates } from '../src/resources/index.js';
import { openNode, openNodeState } from '../src/server/node.js';
import { startTrustd } from '../src/server/trustd/index.js';

const SLICE = process.env.BENCH_SLICE ?? '5s';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PEERS = resolve(process.cwd(), '../shared/peers');
const WORKERS = Number(process.env.TRUSTD_WORKERS ?? 2);

interface WrkResult {
  requests: number;
  ok: number;
  bad: number;
  socket_errors: number;
  req_per_s: number;
  ok_per_s: number;
  lat_ms_p50: number;
  lat_ms_p99: number;
}

const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function wrk(url: string, env: Record<string, string>, duration = SLICE): Promise<WrkResult> {
  return new Promise((resolvePromise, reject) => {
    const args = ['-t2', '-c20', `-d${duration}`, '--latency', '-s', join(PEERS, 'wrk-sign.lua'), url];
    const child = spawn('wrk', args, { env: { ...process.env, CSR_FILE: join(PEERS, 'p256.csr'), ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (${code}): ${out}`));
      resolvePromise(JSON.parse(line) as WrkResult);
    });
  });
}

/** A control-plane node's store, settled: the P-256 OS CA, the token and trustd's own certificate. */
async function controlPlaneState(dir: string): Promise<string> {
  const bundle = await generateSecretsBundle({ osCAAlgorithm: 'ecdsa' });
  const node = await openNode({ stateDir: dir, addresses: { addresses: ['127.0.0.1'], hostname: 'cp-bench' } });
  const config = generateMachineConfig(bundle, { type: 'controlplane', clusterName: 'bench', endpoint: 'https://127.0.0.1:6443' });
  await node.state.create({ metadata: { namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID }, spec: { yaml: config.toYaml() } });
  await node.runtime.start();
  await node.runtime.settled();
  const trustdCert = await node.state.find({ namespace: 'secrets', type: TrustdCertificates.type, id: 'trustd' });
  await node.stop();
  if (!trustdCert) throw new Error('the control-plane node issued no trustd certificate');
  return bundle.trustdInfo.token;
}

async function startTrustdWorkers(dir: string, port: number): Promise<() => void> {
  cluster.setupPrimary({ args: ['--worker'] });
  const workers = Array.from({ length: WORKERS }, () => cluster.fork({ TRUSTD_STATE: dir, TRUSTD_PORT: String(port) }));
  await Promise.all(workers.map((w) => new Promise<void>((r, reject) => {
    w.once('message', () => r());
    w.once('exit', (code) => reject(new Error(`trustd worker exited with ${code}`)));
  })));
  return () => workers.forEach((w) => w.kill());
}

async function worker(): Promise<void> {
  const { state } = await openNodeState(process.env.TRUSTD_STATE!);
  // A real limiter on the path, set high: every wrk request comes from 127.0.0.1.
  await startTrustd({ state, host: '127.0.0.1', port: Number(process.env.TRUSTD_PORT), rateLimit: { perSecond: 1e9, burst: 1e9 } });
  process.send!('ready');
}

/**
 * A second `cfssl serve` on the same CA, over TLS with a P-256 certificate for 127.0.0.1 made by openssl; resolves
 * with its pid once it answers.
 */
async function startCfsslTls(caDir: string, dir: string, port: number): Promise<number> {
  spawnSync('mkdir', ['-p', dir]);
  const req = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'tls-key.pem'), '-out', join(dir, 'tls.pem'), '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  if (req.status !== 0) throw new Error(`openssl req failed: ${req.stderr}`);
  const args = ['serve', '-loglevel', '2', '-address', '127.0.0.1', '-port', String(port), '-ca', join(caDir, 'ca.pem'), '-ca-key', join(caDir, 'ca-key.pem'), '-config', join(PEERS, 'cfssl', 'config.json'), '-tls-cert', join(dir, 'tls.pem'), '-tls-key', join(dir, 'tls-key.pem')];
  const child = spawn('cfssl', args, { stdio: 'ignore', detached: true });
  child.unref();
  for (let i = 0; i < 500; i++) {
    const r = spawnSync('curl', ['-skf', '-o', '/dev/null', '-X', 'POST', '-d', '{}', `https://127.0.0.1:${port}/api/v1/cfssl/info`]);
    if (r.status === 0) return child.pid!;
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill();
  throw new Error('cfssl over TLS did not come up');
}

function startCfssl(dir: string, port: number): number {
  const r = spawnSync('sh', [join(PEERS, 'start-cfssl.sh'), dir, String(port)], { encoding: 'utf8' });
  const pid = /pid=(\d+)/.exec(r.stdout)?.[1];
  if (r.status !== 0 || !pid) throw new Error(`start-cfssl.sh failed: ${r.stdout}${r.stderr}`);
  return Number(pid);
}

/** The slice with the median throughput (its own p50/p99 come with it). */
function medianRun(runs: WrkResult[]): WrkResult {
  return [...runs].sort((a, b) => a.ok_per_s - b.ok_per_s)[Math.floor(runs.length / 2)];
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));

function row(label: string, r: WrkResult): void {
  console.log(`${label.padEnd(34)} ${fmt(r.ok_per_s).padStart(8)} req/s  p50 ${fmt(r.lat_ms_p50).padStart(6)} ms  p99 ${fmt(r.lat_ms_p99).padStart(6)} ms  (${r.ok} ok, ${r.bad} refused, ${r.socket_errors} socket errors)`);
}

async function main(): Promise<void> {
  if (!which('wrk') || !which('cfssl') || !which('cfssljson')) {
    console.log('trustd bench skipped: needs wrk and cfssl (apt-get install -y wrk golang-cfssl)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tp-bench-trustd-'));
  let stopTrustd = () => undefined as void;
  let cfsslPid: number | undefined;
  let cfsslTlsPid: number | undefined;
  try {
    const token = await controlPlaneState(join(dir, 'cp'));
    const trustdPort = await freePort();
    stopTrustd = await startTrustdWorkers(join(dir, 'cp'), trustdPort);
    const cfsslPort = await freePort();
    cfsslPid = startCfssl(join(dir, 'cfssl'), cfsslPort);
    const cfsslTlsPort = await freePort();
    cfsslTlsPid = await startCfsslTls(join(dir, 'cfssl'), join(dir, 'cfssl-tls'), cfsslTlsPort);

    const trustdEnv = { BODY_TEMPLATE: '{"csr":%s}', AUTH_HEADER: `Bearer ${token}`, OK_PATTERN: '"crt"' };
    const trustdUrl = `https://127.0.0.1:${trustdPort}/v1/certificate`;
    const cfsslUrl = `http://127.0.0.1:${cfsslPort}/api/v1/cfssl/sign`;
    const cfsslTlsUrl = `https://127.0.0.1:${cfsslTlsPort}/api/v1/cfssl/sign`;
    // Warm all three (JIT, Go's GC pacing), then alternate.
    await wrk(trustdUrl, trustdEnv, '3s');
    await wrk(cfsslUrl, {}, '3s');
    await wrk(cfsslTlsUrl, {}, '3s');
    const runs = { cfssl: [] as WrkResult[], cfsslTls: [] as WrkResult[], trustd: [] as WrkResult[] };
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        runs.cfsslTls.push(await wrk(cfsslTlsUrl, {}));
        runs.cfssl.push(await wrk(cfsslUrl, {}));
      }
      runs.trustd.push(await wrk(trustdUrl, trustdEnv));
      if (r % 2 === 1) {
        runs.cfssl.push(await wrk(cfsslUrl, {}));
        runs.cfsslTls.push(await wrk(cfsslTlsUrl, {}));
      }
    }
    const cfssl = medianRun(runs.cfssl);
    const cfsslTls = medianRun(runs.cfsslTls);
    const ours = medianRun(runs.trustd);

    console.log(`P-256 CSR signing, wrk -t2 -c20 --latency (wrk-sign.lua), ${ROUNDS} alternating ${SLICE} slices each, median slice; ${DateTime.utc().toISO()}`);
    row(`cfssl serve (HTTP)`, cfssl);
    row(`cfssl serve (HTTPS)`, cfsslTls);
    row(`trustd (HTTPS, ${WORKERS} cluster workers)`, ours);
    const ratio = ours.ok_per_s / cfsslTls.ok_per_s;
    console.log(`ratio trustd/cfssl-over-TLS req/s ${ratio.toFixed(2)} (target >= 2); p99 trustd ${fmt(ours.lat_ms_p99)} ms vs cfssl-over-TLS ${fmt(cfsslTls.lat_ms_p99)} ms (target: no worse)`);
    console.log(`ratio trustd/cfssl-HTTP req/s ${(ours.ok_per_s / cfssl.ok_per_s).toFixed(2)}; cfssl loses ${((1 - cfsslTls.ok_per_s / cfssl.ok_per_s) * 100).toFixed(0)}% to TLS`);
    console.log(`slices req/s: cfssl ${runs.cfssl.map((x) => fmt(x.ok_per_s)).join(', ')}; cfssl TLS ${runs.cfsslTls.map((x) => fmt(x.ok_per_s)).join(', ')}; trustd ${runs.trustd.map((x) => fmt(x.ok_per_s)).join(', ')}`);
    const refused = runs.trustd.reduce((n, x) => n + x.bad + x.socket_errors, 0);
    if (refused) throw new Error(`trustd refused or dropped ${refused} requests`);
  } finally {
    stopTrustd();
    if (cfsslPid) process.kill(cfsslPid);
    if (cfsslTlsPid) process.kill(cfsslTlsPid);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (cluster.isPrimary) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
} else {
  worker().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
