// PKI throughput against baselines measured in the same run:
// 1. leaf issuance (P-256 CA, P-256 leaf key made beforehand, node-server profile with two SANs) against raw
//    node:crypto P-256 signing of a message the size of a TBSCertificate; the two loops are interleaved in short slices
//    so that load on a shared machine hits both alike. Target: issuance >= 25% of raw signing.
// 2. `trustctl gen secrets` as a whole process against an openssl shell script that makes the same four P-256 CAs and
//    the P-256 service-account key, and against cfssl doing the same when `cfssl` is installed.
import { spawnSync } from 'node:child_process';
import { sign } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateSecretsBundle } from '../src/config/index.js';
import { createCA, generateKeyPairSync, issueCertificate } from '../src/pki/index.js';

const SLICE_MS = 100;
const ROUNDS = 30;
const PROCESS_RUNS = 15;
const dir = mkdtempSync(join(tmpdir(), 'tp-bench-pki-'));

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function row(label: string, ours: number, baseline: number, unit: string, baselineName: string, higherIsBetter: boolean): void {
  const ratio = higherIsBetter ? ours / baseline : baseline / ours;
  console.log(
    `${label.padEnd(44)} trustplane ${fmt(ours).padStart(8)} ${unit.padEnd(5)} ${baselineName} ${fmt(baseline).padStart(8)} ${unit.padEnd(5)} ratio ${ratio.toFixed(2)}${higherIsBetter ? '' : ' (baseline time / ours)'}`,
  );
}

/** Runs `fn` repeatedly for `ms`; returns the count. */
function spin(fn: () => void, ms: number): number {
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 16; i++) fn();
    n += 16;
  }
  return n;
}

async function issuance(): Promise<void> {
  const ca = await createCA('kubernetes', { algorithm: 'ecdsa' });
  const leaf = generateKeyPairSync('ecdsa');
  const options = { publicKey: leaf.publicKey, dnsNames: ['node1.example'], ipAddresses: ['10.5.0.2'] };
  const sample = issueCertificate(ca, 'node-server', options).der;
  const message = Buffer.alloc(sample.length - 72, 0x5a); // about the TBSCertificate's size
  const issue = () => void issueCertificate(ca, 'node-server', options);
  const raw = () => void sign('sha256', message, ca.key.privateKey);
  spin(issue, 300);
  spin(raw, 300);
  let ours = 0;
  let base = 0;
  for (let r = 0; r < ROUNDS; r++) {
    // alternate which goes first, so neither always gets the warmer slice
    if (r % 2) {
      ours += spin(issue, SLICE_MS);
      base += spin(raw, SLICE_MS);
    } else {
      base += spin(raw, SLICE_MS);
      ours += spin(issue, SLICE_MS);
    }
  }
  const seconds = (ROUNDS * SLICE_MS) / 1000;
  row('leaf issuance P-256 (cert DER+PEM) vs raw sign', ours / seconds, base / seconds, 'ops/s', 'raw sign', true);
}

function timeProcess(command: string, args: string[], env?: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr?.toString()}`);
  return ms;
}

const OPENSSL_SCRIPT = `#!/bin/sh
# The four Talos CAs (P-256, 10 years, CA:TRUE, KU digitalSignature+keyCertSign, EKU serverAuth+clientAuth) and a P-256 key.
set -e
cd "$1"
ca() {
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.crt" -days 3650 -subj "$2" \\
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,digitalSignature,keyCertSign" \\
    -addext "extendedKeyUsage=serverAuth,clientAuth" 2>/dev/null
}
ca os /O=talos
ca etcd /O=etcd
ca k8s /O=kubernetes
ca k8saggregator /CN=front-proxy
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out sa.key
`;

const CFSSL_SCRIPT = `#!/bin/sh
# The same four P-256 CAs and service-account key with cfssl (CA profile: 87600h).
set -e
cd "$1"
for n in os:talos etcd:etcd k8s:kubernetes; do
  printf '{"names":[{"O":"%s"}],"key":{"algo":"ecdsa","size":256},"ca":{"expiry":"87600h"}}' "\${n#*:}" > "\${n%%:*}-csr.json"
  cfssl gencert -initca "\${n%%:*}-csr.json" 2>/dev/null | cfssljson -bare "\${n%%:*}"
done
printf '{"CN":"front-proxy","key":{"algo":"ecdsa","size":256},"ca":{"expiry":"87600h"}}' > agg-csr.json
cfssl gencert -initca agg-csr.json 2>/dev/null | cfssljson -bare k8saggregator
printf '{"CN":"sa","key":{"algo":"ecdsa","size":256}}' > sa-csr.json
cfssl genkey sa-csr.json 2>/dev/null | cfssljson -bare sa
`;

function which(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

async function genSecrets(): Promise<void> {
  const cli = 'dist/bundle/trustctl.js';
  const script = join(dir, 'cas-openssl.sh');
  writeFileSync(script, OPENSSL_SCRIPT, { mode: 0o755 });
  const work = (i: number, what: string) => {
    const d = join(dir, `${what}-${i}`);
    rmSync(d, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', d]);
    return d;
  };
  const runs = { ours: [] as number[], openssl: [] as number[], cfssl: [] as number[], node: [] as number[], inProcess: [] as number[] };
  const haveCli = existsSync(cli);
  const haveCfssl = which('cfssl') && which('cfssljson');
  const cfsslScript = join(dir, 'cas-cfssl.sh');
  if (haveCfssl) writeFileSync(cfsslScript, CFSSL_SCRIPT, { mode: 0o755 });
  for (let i = 0; i < PROCESS_RUNS; i++) {
    if (haveCli) runs.ours.push(timeProcess(process.execPath, [cli, 'gen', 'secrets', '-o', join(work(i, 'ours'), 'secrets.yaml')]));
    runs.openssl.push(timeProcess('sh', [script, work(i, 'openssl')]));
    if (haveCfssl) runs.cfssl.push(timeProcess('sh', [cfsslScript, work(i, 'cfssl')]));
    runs.node.push(timeProcess(process.execPath, ['-e', '0']));
    const t0 = performance.now();
    await generateSecretsBundle({});
    runs.inProcess.push(performance.now() - t0);
  }
  if (haveCli) row('`trustctl gen secrets` process vs openssl', median(runs.ours), median(runs.openssl), 'ms', 'openssl script', false);
  else console.log('`trustctl gen secrets`: dist/bundle/trustctl.js missing, process figure skipped');
  if (haveCfssl && haveCli) row('`trustctl gen secrets` process vs cfssl', median(runs.ours), median(runs.cfssl), 'ms', 'cfssl script  ', false);
  else if (!haveCfssl) console.log('cfssl: not installed (apt-get install golang-cfssl), skipped');
  console.log(`${'context: bare `node -e 0` start-up'.padEnd(44)} ${fmt(median(runs.node))} ms; in-process generateSecretsBundle ${fmt(median(runs.inProcess))} ms (medians of ${PROCESS_RUNS})`);
}

try {
  await issuance();
  await genSecrets();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
