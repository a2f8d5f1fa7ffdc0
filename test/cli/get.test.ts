import { expect } from 'chai';
import { existsSync, mkdirSync, readdirSync, renameSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { createCA, encodePrivateKeyPem } from '../../src/pki/index.js';
import { NodeSandbox } from './node-sandbox.js';
import type { JsonResource } from './node-sandbox.js';

const HOUR = 3_600_000;
const BASE_COLUMNS = ['NAMESPACE', 'TYPE', 'ID', 'VERSION'];
const CERTIFICATE_COLUMNS = [...BASE_COLUMNS, 'SUBJECT', 'CA', 'NOT AFTER', 'RESIDUAL', 'RENEW AT', 'STATE'];
const METADATA_KEYS = ['namespace', 'type', 'id', 'version', 'owner', 'phase', 'created', 'updated'];

const columnsOf = (line: string) => line.trim().split(/ {2,}/);

describe('trustctl get (on a node made by serve --once)', function () {
  this.timeout(60_000);
  let box: NodeSandbox;
  before(async () => {
    box = await NodeSandbox.create();
    const r = await box.serveOnce('--config', box.config);
    if (r.code !== 0) throw new Error(r.stderr);
  });
  after(() => box.remove());

  it('prints certificate statuses as a table: NAMESPACE TYPE ID VERSION, then the type columns, one row each', async () => {
    const r = await box.run(['get', 'cs', '--state', box.state]);
    expect(r.code, r.stderr).to.equal(0);
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    expect(columnsOf(header)).to.deep.equal(CERTIFICATE_COLUMNS);
    expect(rows).to.have.length(19);
    const apiServer = rows.map(columnsOf).find((c) => c[2] === 'api-server');
    expect(apiServer?.slice(0, 6)).to.deep.equal(['runtime', 'CertificateStatuses', 'api-server', '1', 'CN=talos-node', 'os']);
    expect(apiServer?.[7]).to.match(/^23h\d+m$/); // RESIDUAL of a fresh 24 h certificate
    for (const row of rows) expect(row).to.match(/ Valid$/);
    // every column starts at the same offset on every line
    const at = header.indexOf('STATE');
    for (const row of rows) expect(row.slice(at)).to.equal('Valid');
  });

  it('accepts every alias of a type, case-insensitively', async () => {
    const ids = async (type: string) => (await box.getJson(type)).map((r) => r.metadata.id);
    const expected = await ids('cs');
    for (const alias of ['certificatestatus', 'CertificateStatuses', 'certstatus']) expect(await ids(alias), alias).to.deep.equal(expected);
  });

  it('prints YAML documents of metadata (talosctl order) and spec, separated by ---', async () => {
    const r = await box.run(['get', 'certificatestatus', '--state', box.state, '-o', 'yaml']);
    expect(r.code, r.stderr).to.equal(0);
    const docs = parseAllDocuments(r.stdout);
    expect(Array.isArray(docs) && docs.length).to.equal(19);
    for (const doc of docs as ReturnType<typeof parseAllDocuments> & unknown[]) {
      const value = doc.toJS() as JsonResource<{ state: string; serial: string }>;
      expect(Object.keys(value)).to.deep.equal(['metadata', 'spec']);
      expect(Object.keys(value.metadata)).to.deep.equal(METADATA_KEYS);
      expect(value.metadata).to.include({ namespace: 'runtime', type: 'CertificateStatuses', owner: 'CertificateStatusController', phase: 'running' });
      expect(value.spec.serial).to.match(/^[0-9A-F]+$/);
    }
  });

  it('prints one resource by id: a single YAML document, a single JSON object', async () => {
    const yaml = await box.run(['get', 'cs', 'api-server', '--state', box.state, '-o', 'yaml']);
    expect(yaml.code, yaml.stderr).to.equal(0);
    expect(yaml.stdout).not.to.contain('---');
    expect((parseAllDocuments(yaml.stdout) as unknown[]).length).to.equal(1);
    const json = await box.run(['get', 'cs', 'api-server', '--state', box.state, '-o', 'json']);
    const value = JSON.parse(json.stdout) as JsonResource<{ subject: string }>;
    expect(value.metadata.id).to.equal('api-server');
    expect(value.spec.subject).to.equal('CN=talos-node');
  });

  it('refuses an unknown type, naming it', async () => {
    const r = await box.run(['get', 'certificats', '--state', box.state]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal('error: resource type "certificats" is not supported\n');
    expect(r.stdout).to.equal('');
  });

  it('refuses an id that does not exist, naming the resource', async () => {
    const r = await box.run(['get', 'cs', 'no-such-cert', '--state', box.state]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal("error: resource runtime/CertificateStatuses/no-such-cert doesn't exist\n");
  });

  it('names a missing state directory and how to create it, creating nothing', async () => {
    const missing = box.path('nowhere');
    const r = await box.run(['get', 'cs', '--state', missing]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain(`state directory "${missing}" does not exist`);
    expect(r.stderr).to.contain(`trustctl serve --config controlplane.yaml --state ${missing}`);
    expect(existsSync(missing)).to.equal(false);

    mkdirSync(missing);
    const empty = await box.run(['get', 'cs', '--state', missing]);
    expect(empty.code).to.equal(1);
    expect(empty.stderr).to.contain(`state directory "${missing}" holds no store (state.db); create it with: trustctl serve --config`);
    expect(readdirSync(missing)).to.deep.equal([]);
  });

  it('reads sensitive resources locally with the store key, and refuses without it', async () => {
    const mc = await box.getJson<{ yaml: string }>('mc');
    expect(mc[0].spec.yaml).to.equal(readFileSync(box.config, 'utf8'));
    const key = box.path('state', 'state.db.key');
    renameSync(key, `${key}.away`);
    try {
      const r = await box.run(['get', 'machineconfig', '--state', box.state]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.contain(`state key file "${key}" is missing but store "${box.path('state', 'state.db')}" holds encrypted data`);
      expect(existsSync(key)).to.equal(false);
    } finally {
      renameSync(`${key}.away`, key);
    }
  });

  it('get securitystatus exits 0 on a healthy node', async () => {
    const r = await box.run(['get', 'securitystatus', '--state', box.state]);
    expect(r.code, r.stderr).to.equal(0);
    const [header, row] = r.stdout.trimEnd().split('\n');
    expect(columnsOf(header)).to.deep.equal([...BASE_COLUMNS, 'HEALTHY', 'WORST', 'SOONEST EXPIRY', 'FINDINGS', 'ENCRYPTED']);
    expect(columnsOf(row).slice(4, 6)).to.deep.equal(['true', 'Valid']);
  });
});

describe('trustctl get securitystatus on an unhealthy node', function () {
  this.timeout(60_000);
  let box: NodeSandbox;
  beforeEach(async () => (box = await NodeSandbox.create()));
  afterEach(() => box.remove());

  it('exits 2 and prints the findings when the OS CA expires within its last tenth of life', async () => {
    // Issued ten days ago for ten days and an hour: an honest CA in its final 10 %, which SecurityStatus warns about.
    const ca = await createCA('os', { now: new Date(Date.now() - 240 * HOUR), validityHours: 241 });
    const path = box.writeConfig('expiring.yaml', (c) => (c.osCA = { crt: ca.certPem, key: encodePrivateKeyPem(ca.key) }));
    const served = await box.serveOnce('--config', path);
    expect(served.code, served.stderr).to.equal(0);

    const r = await box.run(['get', 'ss', '--state', box.state]);
    expect(r.code).to.equal(2);
    const lines = r.stdout.trimEnd().split('\n');
    expect(columnsOf(lines[1]).slice(4, 5)).to.deep.equal(['false']);
    const findings = lines.slice(lines.indexOf('FINDINGS') + 1);
    expect(columnsOf(findings[0])).to.deep.equal(['SEVERITY', 'CODE', 'SUBJECT', 'MESSAGE']);
    expect(findings.some((l) => /^warning +CAExpiringSoon +ca-os +the os CA expires at .*; rotate it: trustctl rotate-ca --talos$/.test(l))).to.equal(true);
    expect(r.stderr).to.match(/^not healthy: \d+ finding\(s\) of severity warning or worse\n$/);

    const json = await box.run(['get', 'securitystatus', '--state', box.state, '-o', 'json']);
    expect(json.code).to.equal(2);
    const [status] = JSON.parse(json.stdout) as JsonResource<{ healthy: boolean; findings: { code: string }[] }>[];
    expect(status.spec.healthy).to.equal(false);
    expect(status.spec.findings.map((f) => f.code)).to.include('CAExpiringSoon');
  });

  it('exits 2 when the node has not reported a SecurityStatus yet', async () => {
    const applied = await box.run(['apply-config', '-f', box.config, '--state', box.state]);
    expect(applied.code, applied.stderr).to.equal(0);
    const r = await box.run(['get', 'securitystatus', '--state', box.state]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('no SecurityStatus yet');
  });
});

describe('trustctl get -w', function () {
  this.timeout(60_000);
  let box: NodeSandbox;
  beforeEach(async () => (box = await NodeSandbox.create()));
  afterEach(() => box.remove());

  it('lists the current statuses, then shows the re-issues another process makes, until SIGINT', async () => {
    expect((await box.serveOnce('--config', box.config)).code).to.equal(0);
    const watch = box.start(['get', 'cs', '-w', '--state', box.state]);
    const rows = () => watch.stdout.split('\n').slice(1).filter(Boolean);
    await watch.until('the bootstrap listing', () => rows().length === 19);
    const [header] = watch.stdout.split('\n');
    expect(columnsOf(header)).to.deep.equal(['*', ...CERTIFICATE_COLUMNS]);
    for (const row of rows()) expect(row).to.match(/^\+ {3}runtime /);

    const changed = box.writeConfig('sans.yaml', (c) => (c.certSANs = ['api.example.com']));
    expect((await box.run(['apply-config', '-f', changed, '--state', box.state])).code).to.equal(0);
    expect((await box.serveOnce()).code).to.equal(0);
    const updatedApiServer = /^ {4}runtime +CertificateStatuses +api-server +2 +CN=talos-node +os /m;
    await watch.until('the api-server update', () => updatedApiServer.test(watch.stdout));

    watch.signal('SIGINT');
    expect((await watch.exited).code).to.equal(0);
    const marks = rows().map((r) => r[0]);
    expect(marks.filter((m) => m === '+')).to.have.length(19);
    expect(marks.filter((m) => m === '-')).to.have.length(0);
    // the certificates without a SAN (CAs, Kubernetes clients) were not re-issued
    expect(rows().filter((r) => /k8s-scheduler/.test(r))).to.have.length(1);
  });

  it('prints one JSON line per event with -o json, starting with the current state', async () => {
    expect((await box.run(['apply-config', '-f', box.config, '--state', box.state])).code).to.equal(0);
    const watch = box.start(['get', 'mc', 'v1alpha1', '-w', '-o', 'json', '--state', box.state]);
    const events = () =>
      watch.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as JsonResource & { event: string });
    await watch.until('the current config', () => events().length === 1);
    const changed = box.writeConfig('sans.yaml', (c) => (c.certSANs = ['api.example.com']));
    expect((await box.run(['apply-config', '-f', changed, '--state', box.state])).code).to.equal(0);
    await watch.until('the update', () => events().length === 2);
    watch.signal('SIGTERM');
    expect((await watch.exited).code).to.equal(0);
    expect(events().map((e) => [e.event, e.metadata.version])).to.deep.equal([
      ['created', 1],
      ['updated', 2],
    ]);
  });
});
