import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { formatTalosconfig, issueClientCertificate, newContext } from '../../src/config/index.js';
import type { SecretsBundle } from '../../src/config/index.js';
import type { CertificateLifetimes } from '../../src/controllers/index.js';
import { openNodeState } from '../../src/server/node.js';
import { checkStateDir } from '../../src/server/check/index.js';
import type { CheckFinding, CheckReport } from '../../src/server/check/index.js';
import { Sandbox } from '../config/support/run-trustctl.js';
import { RemoteBox } from './remote-support.js';
import { NodeHarness, freshBundle } from '../controllers/node-harness.js';
import { opensslCA } from '../support/hostile-cas.js';

const DAY = 86_400_000;

/** Every resource's version and every file's bytes in the state directory: what check must leave as it found. */
async function snapshot(stateDir: string): Promise<{ versions: Record<string, number>; files: Record<string, string> }> {
  const { state, registry } = await openNodeState(stateDir, undefined, true);
  const versions: Record<string, number> = {};
  try {
    for (const def of registry.all()) {
      for (const r of await state.list({ namespace: def.namespace, type: def.type })) versions[`${def.type}/${r.metadata.id}`] = r.metadata.version;
    }
  } finally {
    await state.close();
  }
  const files: Record<string, string> = {};
  for (const name of readdirSync(stateDir).filter((n) => !n.endsWith('-shm'))) files[name] = readFileSync(join(stateDir, name)).toString('base64');
  return { versions, files };
}

/** A stopped control-plane node made from `bundle` at `start`, in `dir`. */
async function node(bundle: SecretsBundle, start: DateTime, dir: string, lifetimes?: Partial<CertificateLifetimes>): Promise<string> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const h = await NodeHarness.start({ bundle, start, dir, ...(lifetimes ? { lifetimes } : {}) });
  await h.stop();
  return dir;
}

const notAfter = (pem: string) => new Date(new X509Certificate(pem).validTo).toISOString();
const codes = (r: CheckReport) => r.findings.map((f) => `${f.code} ${f.subject}`);

describe('trustctl check', function () {
  this.timeout(120_000);
  let box: Sandbox;
  const now = DateTime.utc().startOf('second');

  beforeEach(() => {
    box = new Sandbox();
  });
  afterEach(() => box.remove());

  it('finds a fresh cluster clean for 5 years, renewing every certificate on schedule, and changes nothing', async () => {
    const dir = await node(await freshBundle(now.toJSDate()), now, box.path('state'));
    const before = await snapshot(dir);
    const report = await checkStateDir(dir, { from: now, years: 5 });
    expect(report.findings).to.deep.equal([]);
    expect(report.simulatedUntil).to.equal(now.plus({ years: 5 }).toISO());
    const byId = new Map(report.certificates.map((c) => [c.id, c]));
    // Kubernetes leaves live a year and renew at 2/3..9/10 of it: 5 to 7 times in five years.
    expect(byId.get('k8s-kube-apiserver')!.renewals).to.be.within(5, 7);
    // apid's certificate lives a day: ~2,330 renewals, worked out rather than simulated one by one.
    expect(byId.get('api-server')!.estimated).to.equal(true);
    expect(byId.get('api-server')!.renewals).to.be.within(Math.floor((5 * 365) / 0.9), Math.ceil((5 * 366) / (2 / 3)));
    // etcd leaves ask for the CA's ten years: none renews in the first five.
    expect(byId.get('etcd-server')!.renewals).to.equal(0);
    expect(byId.get('ca-os')!.kind).to.equal('ca');
    expect(await snapshot(dir)).to.deep.equal(before);
  });

  it('renews at the pace the node was served with, read back from the requests its certificates were made from', async () => {
    // Served with --kubernetes-lifetime 720h: the Kubernetes leaves renew every 20..27 days, not once a year.
    const dir = await node(await freshBundle(now.toJSDate()), now, box.path('state'), { kubernetesHours: 720 });
    const report = await checkStateDir(dir, { from: now, years: 1 });
    expect(report.findings).to.deep.equal([]);
    const k8s = report.certificates.find((c) => c.id === 'k8s-kube-apiserver')!;
    expect(k8s.renewals).to.be.within(Math.floor(8760 / (0.9 * 720)) - 1, Math.ceil(8760 / ((2 / 3) * 720)));
    // The first renewal comes from the certificate the node holds, not from a reissue at the start of the simulation.
    expect(Date.parse(k8s.firstRenewal!) - now.toMillis()).to.be.within((2 / 3) * 720 * 3_600_000 - 1000, 0.9 * 720 * 3_600_000 + 1000);
  });

  it("reports over ten years each CA's own end with the rotate-ca command that fixes it", async () => {
    const bundle = await freshBundle(now.toJSDate());
    const dir = await node(bundle, now, box.path('state'));
    const before = await snapshot(dir);
    const report = await checkStateDir(dir, { from: now, years: 10 });
    const ca = (subject: string, ca: string, pem: string, fix: string, signs: number): CheckFinding => ({
      severity: 'critical',
      code: 'CAExpires',
      at: notAfter(pem),
      subject,
      message: `the ${ca} CA ends at ${notAfter(pem)}; it is not renewed, and the ${signs} certificate(s) it signs here cannot be renewed past it`,
      fix,
    });
    expect(report.findings).to.deep.equal([
      ca('ca-aggregator', 'aggregator', bundle.certs.k8sAggregator.crt, 'trustctl rotate-ca --aggregator', 1),
      ca('ca-etcd', 'etcd', bundle.certs.etcd.crt, 'trustctl rotate-ca --etcd', 4),
      ca('ca-kubernetes', 'kubernetes', bundle.certs.k8s.crt, 'trustctl rotate-ca --kubernetes', 7),
      ca('ca-os', 'os', bundle.certs.os.crt, 'trustctl rotate-ca --talos', 3),
    ]);
    // Simulated up to a day before the CAs end, and no certificate was ever in use past its notAfter.
    expect(Date.parse(report.simulatedUntil)).to.equal(Date.parse(notAfter(bundle.certs.os.crt)) - DAY);
    expect(await snapshot(dir)).to.deep.equal(before);
  });

  it('reports a CA whose RSA 2048 key may no longer sign from 2031 (NIST SP 800-57), when the window reaches it', async () => {
    const bundle = await freshBundle(now.toJSDate());
    const k8s = opensslCA({ newkey: 'rsa:2048', days: 3650 });
    bundle.certs.k8s = { crt: k8s.crt, key: k8s.key };
    const dir = await node(bundle, now, box.path('state'));
    const start = DateTime.fromISO('2026-12-01T00:00:00Z', { zone: 'utc' });
    const report = await checkStateDir(dir, { from: start, years: 5 });
    const key = report.findings.filter((f) => f.code === 'KeyNotAllowed');
    expect(key).to.have.length(1);
    expect(key[0]).to.include({ severity: 'critical', at: '2031-01-01T00:00:00.000Z', subject: 'ca-kubernetes', fix: 'trustctl rotate-ca --kubernetes to an ECDSA P-256 (or RSA 3072+) CA before then' });
    expect(key[0].message).to.match(/^the kubernetes CA has an RSA 2048-bit key, which is disallowed from 2031-01-01T00:00:00.000Z for signing .* the 7 certificate\(s\) it signs here/);
    // A window that ends before 2031 foresees nothing of the kind; the ECDSA CAs never get such a finding.
    expect((await checkStateDir(dir, { from: start, years: 3 })).findings.map((f) => f.code)).not.to.include('KeyNotAllowed');
  });

  it('reports a Kubernetes CA made by openssl that ends in 18 months, with its date and rotate-ca --kubernetes (exit 2)', async () => {
    const bundle = await freshBundle(now.toJSDate());
    const k8s = opensslCA({ days: 548 });
    bundle.certs.k8s = { crt: k8s.crt, key: k8s.key };
    const dir = await node(bundle, now, box.path('state'));
    const before = await snapshot(dir);
    const r = await box.run(['check', '--state', dir, '--years', '2', '-o', 'json']);
    expect(r.code, r.stderr).to.equal(2);
    const report = JSON.parse(r.stdout) as CheckReport;
    const end = notAfter(k8s.crt);
    expect(report.findings).to.deep.equal([
      {
        severity: 'critical',
        code: 'CAExpires',
        at: end,
        subject: 'ca-kubernetes',
        message: `the kubernetes CA ends at ${end}; it is not renewed, and the 7 certificate(s) it signs here cannot be renewed past it`,
        fix: 'trustctl rotate-ca --kubernetes',
      },
    ]);
    expect(Date.parse(report.simulatedUntil)).to.equal(Date.parse(end) - DAY);
    const table = await box.run(['check', '--state', dir, '--years', '2']);
    expect(table.code).to.equal(2);
    expect(table.stdout).to.match(new RegExp(`critical\\s+${end.slice(0, 10)}\\s+ca-kubernetes\\s+the kubernetes CA ends at .*trustctl rotate-ca --kubernetes\\n`));
    expect(table.stdout).to.match(/^k8s-kube-apiserver\s+kubernetes\s+\d+\s+\d{4}-\d\d-\d\d\s+\d{4}-\d\d-\d\d$/m);
    expect(await snapshot(dir)).to.deep.equal(before);
  });

  it('reports, for a node left off past its CAs\' end, every leaf expired in use and every renewal failing, with the rotation that fixes each', async () => {
    const dir = await node(await freshBundle(now.toJSDate()), now, box.path('state'));
    const before = await snapshot(dir);
    const from = now.plus({ years: 11 });
    const report = await checkStateDir(dir, { from, years: 1 });
    const leaves = report.certificates.filter((c) => c.kind === 'leaf');
    expect(leaves).to.have.length(15);
    // Nothing can be renewed, so nothing is simulated past the start.
    expect(report.simulatedUntil).to.equal(from.toISO());
    expect(report.wakeUps).to.equal(0);
    const expected = [
      ...['aggregator', 'etcd', 'kubernetes', 'os'].map((ca) => `CAExpires ca-${ca}`),
      ...leaves.flatMap((c) => [`ExpiredInUse ${c.id}`, `RenewalFails ${c.id}`]),
    ];
    expect([...codes(report)].sort()).to.deep.equal(expected.sort());
    const rotate: Record<string, string> = { os: '--talos', kubernetes: '--kubernetes', etcd: '--etcd', aggregator: '--aggregator' };
    for (const f of report.findings) {
      const ca = f.code === 'CAExpires' ? f.subject.slice(3) : leaves.find((c) => c.id === f.subject)!.ca;
      expect(f.fix, `${f.code} ${f.subject}`).to.equal(`trustctl rotate-ca ${rotate[ca]}`);
      expect(f.severity).to.equal('critical');
    }
    const server = report.findings.find((f) => f.code === 'RenewalFails' && f.subject === 'api-server')!;
    expect(server.message).to.match(/^its renewal would fail: api\/server: the os CA expired at \S+; rotate it: trustctl rotate-ca --talos$/);
    expect(server.at).to.equal(from.toISO());
    expect(await snapshot(dir)).to.deep.equal(before);
  });

  it('reports a talosconfig whose client certificate was issued for 30 days, with config new as the fix', async () => {
    const bundle = await freshBundle(now.toJSDate());
    const dir = await node(bundle, now, box.path('state'));
    const client = await issueClientCertificate(bundle.certs.os, { roles: ['os:admin'], validityHours: 720 });
    const file = box.path('talosconfig');
    writeFileSync(file, formatTalosconfig({ context: 'demo', contexts: { demo: newContext(['10.5.0.2'], { caPem: bundle.certs.os.crt, crtPem: client.crt, keyPem: client.key }) } }), { mode: 0o600 });
    const before = await snapshot(dir);
    const r = await box.run(['check', '--state', dir, '--years', '1', '--talosconfig', file, '-o', 'json']);
    expect(r.code, r.stderr).to.equal(2);
    const report = JSON.parse(r.stdout) as CheckReport;
    const end = notAfter(client.crt);
    expect(report.findings).to.deep.equal([
      {
        severity: 'warning',
        code: 'ClientCertificateExpires',
        at: end,
        subject: `talosconfig ${file} context "demo"`,
        message: `its client certificate expires at ${end}; nothing renews it`,
        fix: 'trustctl config new',
      },
    ]);
    expect(codes(report)).to.deep.equal([`ClientCertificateExpires talosconfig ${file} context "demo"`]);
    expect(await snapshot(dir)).to.deep.equal(before);
  });

  it('exits 0 with "no problems foreseen" for a clean node, and refuses --years out of range naming the flag', async () => {
    const dir = await node(await freshBundle(now.toJSDate()), now, box.path('state'));
    const r = await box.run(['check', '--state', dir, '--years', '1']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^ID\s+CA\s+RENEWALS\s+FIRST RENEWAL\s+LAST RENEWAL$/m);
    expect(r.stdout).to.match(/^api-server\s+os\s+~\d+\s/m);
    expect(r.stdout.trimEnd().endsWith('no problems foreseen')).to.equal(true);
    const bad = await box.run(['check', '--state', dir, '--years', '0']);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.contain('--years: expected a whole number of years from 1 to 100, got "0"');
  });
});

describe('trustctl check over the API (-e/-n)', function () {
  this.timeout(120_000);
  let box: RemoteBox;

  before(async () => {
    box = await RemoteBox.open();
  });
  after(async () => box.close());

  it('has the node run the check, and adds the talosconfig in use when it ends in the window (exit 2)', async () => {
    await box.writeTalosconfig(box.talosconfig, ['os:admin'], { validityHours: 720 });
    const r = await box.run(['-e', box.a.address, 'check', '--years', '5', '-o', 'json']);
    expect(r.code, r.stderr).to.equal(2);
    const report = JSON.parse(r.stdout) as CheckReport;
    expect(codes(report)).to.deep.equal([`ClientCertificateExpires talosconfig ${box.talosconfig} context "os:admin@demo"`]);
    expect(report.findings[0].fix).to.equal('trustctl config new');
    expect(report.certificates.map((c) => c.id)).to.include('api-server');
    // -n: the endpoint forwards the call; the answer is keyed by node.
    const forwarded = await box.run(['-e', box.a.address, '-n', box.b.address, 'check', '--years', '5', '-o', 'json']);
    expect(forwarded.code, forwarded.stderr).to.equal(2);
    expect(Object.keys(JSON.parse(forwarded.stdout) as Record<string, CheckReport>)).to.deep.equal([box.b.address]);
  });

  it('is refused to a reader: the simulation reads every secret', async () => {
    const reader = box.path('reader.yaml');
    await box.writeTalosconfig(reader, ['os:reader']);
    const r = await box.run(['--talosconfig', reader, '-e', box.a.address, 'check', '--years', '1']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal('error: not authorized\n');
    expect(r.stdout).to.equal('');
  });
});
