import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { contextCredentials, parseMachineConfig, parseTalosconfig } from '../../src/config/index.js';
import { RemoteBox } from './remote-support.js';

interface Doc {
  node: string;
  metadata: { id: string; type: string; version: number };
  spec: Record<string, unknown>;
}

describe('trustctl over apid', function () {
  let box: RemoteBox;

  before(async () => {
    box = await RemoteBox.open();
  });
  after(async () => box?.close());

  const storedStatuses = async (h: RemoteBox['a']) => h.node.node.state.list<{ serial: string }>({ namespace: 'runtime', type: 'CertificateStatuses' });

  it('gets from the endpoint with a NODE column first and the local table columns after it', async () => {
    const r = await box.run(['get', 'cs']);
    expect(r.code, r.stderr).to.equal(0);
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    expect(header.split(/\s{2,}/)).to.deep.equal(['NODE', 'NAMESPACE', 'TYPE', 'ID', 'VERSION', 'SUBJECT', 'CA', 'NOT AFTER', 'RESIDUAL', 'RENEW AT', 'STATE']);
    const stored = await storedStatuses(box.a);
    expect(rows).to.have.length(stored.length);
    for (const row of rows) expect(row.startsWith('127.0.0.1 ')).to.equal(true);
  });

  it('gets from another node through the endpoint (-n), each document naming its node', async () => {
    const r = await box.run(['-n', box.b.address, 'get', 'cs', '-o', 'yaml']);
    expect(r.code, r.stderr).to.equal(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Doc);
    expect(Object.keys(docs[0])).to.deep.equal(['node', 'metadata', 'spec']);
    expect(new Set(docs.map((d) => d.node))).to.deep.equal(new Set([box.b.address]));
    const serials = (await storedStatuses(box.b)).map((s) => s.spec.serial).sort();
    expect(docs.map((d) => d.spec.serial as string).sort()).to.deep.equal(serials);
  });

  it('gets from several nodes at once (-n A,B)', async () => {
    const r = await box.run(['get', 'cs', 'api-server', '-n', `${box.a.address},${box.b.address}`, '-o', 'json']);
    expect(r.code, r.stderr).to.equal(0);
    const docs = JSON.parse(r.stdout) as Doc[];
    expect(docs.map((d) => d.node)).to.deep.equal([box.a.address, box.b.address]);
    expect(docs[0].spec.serial).to.not.equal(docs[1].spec.serial);
  });

  it('says "not authorized" to a reader asking for a sensitive type, and exits 1', async () => {
    const reader = box.path('reader.yaml');
    await box.writeTalosconfig(reader, ['os:reader']);
    const r = await box.run(['--talosconfig', reader, 'get', 'mc']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('not authorized');
    expect(r.stdout).to.equal('');
  });

  it('warns on stderr when the client certificate expires within 30 days, and still works', async () => {
    const soon = box.path('soon.yaml');
    await box.writeTalosconfig(soon, ['os:reader'], { validityHours: 240 });
    const r = await box.run(['--talosconfig', soon, 'get', 'cs']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/^warning: the client certificate of talosconfig context "os:reader@demo" expires in (9|10) days \(\d{4}-\d{2}-\d{2}\); get a new one with `trustctl config new`/);
    const fresh = await box.run(['get', 'cs']);
    expect(fresh.stderr).to.equal('');
  });

  it('applies a config file to a node and writes nothing for an invalid one', async () => {
    const stored = await box.a.node.node.state.get<{ yaml: string }>({ namespace: 'config', type: 'MachineConfigs', id: 'v1alpha1' });
    const config = parseMachineConfig(stored.spec.yaml);
    config.certSANs = [...config.certSANs, 'applied.example.com'];
    writeFileSync(box.path('good.yaml'), config.toYaml());
    const r = await box.run(['apply-config', '-f', box.path('good.yaml')]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(`Applied configuration: MachineConfigs config/v1alpha1 is now at version ${stored.metadata.version + 1}.\n`);

    config.certSANs = ['10.0.0.300'];
    writeFileSync(box.path('bad.yaml'), config.toYaml());
    const bad = await box.run(['apply-config', '-f', box.path('bad.yaml')]);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.contain('10.0.0.300').and.to.contain('nothing was applied');
    const after = await box.a.node.node.state.get({ namespace: 'config', type: 'MachineConfigs', id: 'v1alpha1' });
    expect(after.metadata.version).to.equal(stored.metadata.version + 1);
  });

  it('patches a node with --dry-run (masked diff, nothing written), then for real', async () => {
    const pointer = { namespace: 'config', type: 'MachineConfigs', id: 'v1alpha1' };
    const before = await box.b.node.node.state.get(pointer);
    writeFileSync(box.path('p.yaml'), 'machine:\n  certSANs: [patched.example.com]\n');
    const dry = await box.run(['-n', box.b.address, 'patch', 'mc', '--patch', `@${box.path('p.yaml')}`, '--dry-run']);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.contain('+        - patched.example.com').and.not.to.match(/BEGIN (EC |ED25519 )?PRIVATE KEY/);
    expect(dry.stdout).to.contain('Certificate impact:\n  ApiCertificates: SAN +patched.example.com\n  TrustdCertificates: SAN +patched.example.com\n');
    expect((await box.b.node.node.state.get(pointer)).metadata.version).to.equal(before.metadata.version);
    const real = await box.run(['-n', box.b.address, 'patch', 'mc', '--patch', `@${box.path('p.yaml')}`]);
    expect(real.stdout).to.equal(`${box.b.address}: Patched configuration: MachineConfigs config/v1alpha1 is now at version ${before.metadata.version + 1}.\n`);
  });

  it('config new online: writes a talosconfig whose certificate carries the roles and TTL asked for', async () => {
    const r = await box.run(['config', 'new', '--roles', 'os:reader', '--crt-ttl', '24h', '-o', box.path('new-reader')]);
    expect(r.code, r.stderr).to.equal(0);
    const config = parseTalosconfig(readFileSync(box.path('new-reader'), 'utf8'));
    expect(config.context).to.equal('reader@demo');
    const creds = contextCredentials(config.context, config.contexts[config.context]);
    const cert = new X509Certificate(creds.crtPem);
    expect(cert.subject).to.contain('O=os:reader');
    expect(new Date(cert.validTo).getTime() - box.a.now().getTime()).to.be.closeTo(24 * 3_600_000, 120_000);
    expect(config.contexts[config.context].endpoints).to.deep.equal([box.a.address]);
    const use = await box.run(['--talosconfig', box.path('new-reader'), 'get', 'cs']);
    expect(use.code, use.stderr).to.equal(0);
  });

  it('refuses config new to a reader', async () => {
    const reader = box.path('reader2.yaml');
    await box.writeTalosconfig(reader, ['os:reader']);
    const r = await box.run(['--talosconfig', reader, 'config', 'new', '--roles', 'os:admin', '-o', box.path('escalated')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('not authorized');
  });

  it('prints the client and each node\'s version', async () => {
    const r = await box.run(['version', '-n', `${box.a.address},${box.b.address}`]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(
      `Client:\n\tTag:         v0.1.0\nServer:\n\tNODE:        ${box.a.address}\n\tTag:         v0.1.0\n\tAPI:         v1\n\tNODE:        ${box.b.address}\n\tTag:         v0.1.0\n\tAPI:         v1\n`,
    );
  });

  it('saves a store snapshot for os:etcd:backup (0600, a SQLite file) and refuses it to a reader', async () => {
    const backup = box.path('backup.yaml');
    await box.writeTalosconfig(backup, ['os:etcd:backup']);
    const r = await box.run(['--talosconfig', backup, 'etcd', 'snapshot', box.path('snap.db')]);
    expect(r.code, r.stderr).to.equal(0);
    expect(readFileSync(box.path('snap.db')).subarray(0, 15).toString()).to.equal('SQLite format 3');
    expect(box.mode('snap.db')).to.equal(0o600);
    const reader = box.path('reader3.yaml');
    await box.writeTalosconfig(reader, ['os:reader']);
    const refused = await box.run(['--talosconfig', reader, 'etcd', 'snapshot', box.path('nope.db')]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.contain('not authorized');
    expect(existsSync(box.path('nope.db')), 'nothing written on refusal').to.equal(false);
  });

  it('says which endpoint cannot be reached', async () => {
    const r = await box.run(['-e', '127.0.0.1:1', 'get', 'cs']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/endpoint 127\.0\.0\.1:1: connect ECONNREFUSED/);
  });

  it('get -w lists again when the node no longer holds the history after its bookmark (410), without stopping', async () => {
    const watch = box.start(['-n', box.b.address, 'get', 'cs', '-w', '-o', 'json']);
    const created = () => (watch.stdout.match(/"event":"created"/g) ?? []).length;
    const initial = (await storedStatuses(box.b)).length;
    try {
      await watch.until('the listing', () => created() >= initial);
      // While the endpoint is down, push the node's store more than its 10,000-revision history past the bookmark.
      await box.a.restartApid(async () => {
        const ops = Array.from({ length: 10_300 }, (_, i) => ({
          op: 'create' as const,
          owner: 'runtime',
          resource: { metadata: { namespace: 'runtime', type: 'ControllerStatuses', id: `filler-${i}` }, spec: { name: `filler-${i}`, state: 'idle', failures: 0, reconciles: 0 } },
        }));
        await box.b.node.node.state.batch(ops);
        await box.b.node.node.state.create({ metadata: { namespace: 'runtime', type: 'ControllerStatuses', id: 'filler-last' }, spec: { name: 'filler-last', state: 'idle', failures: 0, reconciles: 0 } }, { owner: 'runtime' });
      });
      await watch.until('the new listing', () => created() >= 2 * initial);
      expect(watch.stderr).to.match(/older than the retained history.*; listing again/);
    } finally {
      watch.signal('SIGTERM');
      await watch.exited;
    }
  });

  it('get -w as a table follows several nodes: NODE, then the * column, then the local columns', async () => {
    const watch = box.start(['get', 'cs', '-w', '-n', `${box.a.address},${box.b.address}`]);
    const total = (await storedStatuses(box.a)).length + (await storedStatuses(box.b)).length;
    try {
      await watch.until('both listings', (w) => w.stdout.trim().split('\n').length >= total + 1);
      const [header, ...rows] = watch.stdout.trimEnd().split('\n');
      expect(header.split(/\s{2,}/).slice(0, 6)).to.deep.equal(['NODE', '*', 'NAMESPACE', 'TYPE', 'ID', 'VERSION']);
      expect(rows.filter((r) => r.startsWith(`${box.a.address} `))).to.have.length((await storedStatuses(box.a)).length);
      expect(rows.filter((r) => r.startsWith(`${box.b.address} `))).to.have.length((await storedStatuses(box.b)).length);
      expect(rows.every((r) => / \+ /.test(r))).to.equal(true);
    } finally {
      watch.signal('SIGTERM');
      await watch.exited;
    }
  });

  it('get -w fails at once, naming the endpoint, when it cannot connect at all', async () => {
    const r = await box.run(['-e', '127.0.0.1:1', 'get', 'cs', '-w']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/endpoint 127\.0\.0\.1:1: connect ECONNREFUSED/);
  });

  it('get -w reconnects after a dropped connection from its last bookmark: later changes arrive, nothing is repeated', async () => {
    const watch = box.start(['get', 'cs', '-w', '-o', 'json']);
    const events = () =>
      watch.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Doc & { event: string });
    const initial = (await storedStatuses(box.a)).length;
    try {
      await watch.until('the listing', () => events().length >= initial);
      await box.a.restartApid();
      await watch.until('the reconnect notice', (w) => w.stderr.includes('reconnecting'));
      const admin = await box.a.role('os:admin');
      const patched = await box.a.request(admin, 'PATCH', '/v1/machineconfig', { patches: ['machine:\n  certSANs: [watched.example.com]\n'] });
      expect(patched.status, patched.body).to.equal(200);
      await box.a.node.settle();
      await watch.until('the change after the reconnect', () =>
        events().some((e) => e.event === 'updated' && ((e.spec.dnsNames as string[] | undefined) ?? []).includes('watched.example.com')),
      );
      const created = events().filter((e) => e.event === 'created');
      expect(created.length, 'the bootstrap listing is not repeated').to.equal(initial);
      expect(watch.stderr).to.match(/^127\.0\.0\.1: .*; reconnecting in \d+ ms from the last bookmark$/m);
    } finally {
      watch.signal('SIGTERM');
      await watch.exited;
    }
  });
});

