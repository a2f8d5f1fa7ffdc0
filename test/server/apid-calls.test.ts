import type { X509Certificate } from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import { expect } from 'chai';
import { MachineConfig, issueClientCertificate, parseMachineConfig } from '../../src/config/index.js';
import { ApidHarness, credential } from './apid-harness.js';
import { generateSecretsBundleFor } from './apid-pki.js';
import type { Credential } from './apid-harness.js';
import { readWatch } from './apid-stream.js';

/** The certificate the server presents on a new connection. */
function servedCertificate(port: number, caPem: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: caPem }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.end();
      if (cert) resolve(cert);
      else reject(new Error('no server certificate'));
    });
    socket.on('error', reject);
  });
}

/** Calls over one kept-alive connection, as a long-lived client (talosctl's gRPC channel) makes them. */
function keptAlive(port: number, caPem: string, cred: Credential) {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  return {
    get: (path: string) =>
      new Promise<{ status: number; error?: string; reused: boolean }>((resolve, reject) => {
        const req = https.get({ host: '127.0.0.1', port, path, agent, ca: caPem, cert: cred.crt, key: cred.key }, (res) => {
          let data = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (data += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, error: (JSON.parse(data) as { error?: string }).error, reused: req.reusedSocket }));
        });
        req.on('error', reject);
      }),
    close: () => agent.destroy(),
  };
}

describe('apid calls', function () {
  let h: ApidHarness;
  let admin: Credential;
  let reader: Credential;

  beforeEach(async () => {
    h = await ApidHarness.start();
    admin = await h.role('os:admin');
    reader = await h.role('os:reader');
  });
  afterEach(async () => h?.close());

  it('serves the re-issued certificate on the next connection after a certSANs patch, without a restart', async () => {
    const before = await servedCertificate(h.apid.port, h.caPem);
    expect(before.subjectAltName).to.not.contain('api.example.com');
    const patched = await h.request(admin, 'PATCH', '/v1/machineconfig', { patches: ['machine:\n  certSANs: [api.example.com]\n'] });
    expect(patched.status, patched.body).to.equal(200);
    expect(patched.json.changed).to.equal(true);
    await h.node.settle();
    const after = await servedCertificate(h.apid.port, h.caPem);
    expect(after.subjectAltName).to.contain('DNS:api.example.com');
    expect(after.serialNumber).to.not.equal(before.serialNumber);
  });

  it('accepts client certificates of a CA added to machine.acceptedCAs on the next connection, without a restart', async () => {
    const other = await generateSecretsBundleFor(h.now());
    const outsider = credential('other CA admin', await issueClientCertificate(other.certs.os, { roles: ['os:admin'], now: h.now() }));
    const before = await h.request(outsider, 'GET', '/v1/resources/cs');
    expect(before.json).to.deep.equal({ error: 'x509: certificate signed by unknown authority' });

    const stored = await h.request(admin, 'GET', '/v1/resources/mc/v1alpha1');
    const config = parseMachineConfig((stored.json.spec as { yaml: string }).yaml);
    config.acceptedCAs = [...config.acceptedCAs, other.certs.os.crt];
    expect((await h.request(admin, 'PUT', '/v1/machineconfig', { yaml: config.toYaml() })).status).to.equal(200);
    await h.node.settle();

    const after = await h.request(outsider, 'GET', '/v1/resources/cs');
    expect(after.status, after.body).to.equal(200);
  });

  it('refuses the next call on a kept-alive connection once its client certificate has expired', async () => {
    const short = credential('1 h admin', await issueClientCertificate(h.bundle.certs.os, { roles: ['os:admin'], validityHours: 1, now: h.now() }));
    const conn = keptAlive(h.apid.port, h.caPem, short);
    try {
      expect(await conn.get('/v1/version')).to.deep.include({ status: 200, error: undefined });
      await h.node.clock.advance({ hours: 2 });
      const later = await conn.get('/v1/version');
      expect(later.reused, 'the same connection').to.equal(true);
      expect(later.status).to.equal(401);
      expect(later.error).to.match(/^x509: certificate has expired or is not yet valid: current time \S+ is after \S+$/);
    } finally {
      conn.close();
    }
  });

  it('refuses the next call on a kept-alive connection once its CA is no longer accepted (the end of a CA rotation)', async () => {
    const other = await generateSecretsBundleFor(h.now());
    const stored = await h.request(admin, 'GET', '/v1/resources/mc/v1alpha1');
    const config = parseMachineConfig((stored.json.spec as { yaml: string }).yaml);
    const before = config.acceptedCAs;
    config.acceptedCAs = [...before, other.certs.os.crt];
    expect((await h.request(admin, 'PUT', '/v1/machineconfig', { yaml: config.toYaml() })).status).to.equal(200);
    await h.node.settle();

    const outsider = credential('other CA admin', await issueClientCertificate(other.certs.os, { roles: ['os:admin'], now: h.now() }));
    const conn = keptAlive(h.apid.port, h.caPem, outsider);
    try {
      expect(await conn.get('/v1/version')).to.deep.include({ status: 200, error: undefined });
      config.acceptedCAs = before;
      expect((await h.request(admin, 'PUT', '/v1/machineconfig', { yaml: config.toYaml() })).status).to.equal(200);
      await h.node.settle();
      const later = await conn.get('/v1/version');
      expect(later.reused, 'the same connection').to.equal(true);
      expect(later).to.deep.include({ status: 401, error: 'x509: certificate signed by unknown authority' });
      // A client of a CA still accepted keeps its connection working.
      const kept = keptAlive(h.apid.port, h.caPem, admin);
      expect((await kept.get('/v1/version')).status).to.equal(200);
      expect((await kept.get('/v1/version')).reused).to.equal(true);
      kept.close();
    } finally {
      conn.close();
    }
  });

  it('applies a valid config, reports an identical one as unchanged, and writes nothing for an invalid one', async () => {
    const stored = await h.request(admin, 'GET', '/v1/resources/mc/v1alpha1');
    const yaml = (stored.json.spec as { yaml: string }).yaml;
    const version = (stored.json.metadata as { version: number }).version;
    const same = await h.request(admin, 'PUT', '/v1/machineconfig', { yaml });
    expect(same.json).to.deep.equal({ changed: false, version });

    const config = parseMachineConfig(yaml);
    config.certSANs = ['applied.example.com'];
    const applied = await h.request(admin, 'PUT', '/v1/machineconfig', { yaml: config.toYaml() });
    expect(applied.json).to.deep.equal({ changed: true, version: version + 1 });

    config.certSANs = ['10.0.0.300'];
    const bad = await h.request(admin, 'PUT', '/v1/machineconfig', { yaml: config.toYaml() });
    expect(bad.status).to.equal(400);
    expect(bad.json.error).to.match(/nothing was applied/).and.to.contain('10.0.0.300');
    const after = await h.request(admin, 'GET', '/v1/resources/mc/v1alpha1');
    expect((after.json.metadata as { version: number }).version).to.equal(version + 1);
  });

  it('refuses RFC 6902 patches on a multi-document config with the upstream message', async () => {
    const refused = await h.request(admin, 'PATCH', '/v1/machineconfig', { patches: ['[{"op": "add", "path": "/machine/certSANs/-", "value": "x.example.com"}]'] });
    expect(refused.status).to.equal(400);
    expect(refused.json).to.deep.equal({ error: 'JSON6902 patches are not supported for multi-document machine configuration' });
  });

  it('patches a single-document config with RFC 6902 and refuses a bad operation naming it, leaving the config as it was', async () => {
    const stored = await h.request(admin, 'GET', '/v1/resources/mc/v1alpha1');
    const single = MachineConfig.fromObjects(parseMachineConfig((stored.json.spec as { yaml: string }).yaml).toJS()[0] as object);
    expect((await h.request(admin, 'PUT', '/v1/machineconfig', { yaml: single.toYaml() })).status).to.equal(200);
    const ok = await h.request(admin, 'PATCH', '/v1/machineconfig', { patches: ['[{"op": "add", "path": "/machine/certSANs/-", "value": "json.example.com"}]'] });
    expect(ok.status, ok.body).to.equal(200);
    const bad = await h.request(admin, 'PATCH', '/v1/machineconfig', { patches: ['[{"op": "replace", "path": "/machine/nosuch/field", "value": 1}]'] });
    expect(bad.status).to.equal(400);
    expect(bad.json.error).to.match(/^patch: /).and.to.contain('/machine/nosuch/field');
    const mc = await h.request(admin, 'GET', '/v1/resources/mc/v1alpha1');
    expect(parseMachineConfig((mc.json.spec as { yaml: string }).yaml).certSANs).to.include('json.example.com');
    expect((mc.json.metadata as { version: number }).version).to.equal(ok.json.version);
  });

  it('dry-run patches return both texts and write nothing', async () => {
    const before = await h.request(admin, 'GET', '/v1/resources/mc/v1alpha1');
    const dry = await h.request(admin, 'PATCH', '/v1/machineconfig', { patches: ['machine:\n  certSANs: [dry.example.com]\n'], dryRun: true });
    expect(dry.json.changed).to.equal(true);
    expect(dry.json.after).to.contain('dry.example.com');
    expect(dry.json.before).to.equal((before.json.spec as { yaml: string }).yaml);
    // the node judges the impact on its own addresses, as the local `patch --dry-run` does
    expect(dry.json.impact).to.deep.equal(['ApiCertificates: SAN +dry.example.com', 'TrustdCertificates: SAN +dry.example.com']);
    expect(dry.json.impactNote).to.equal(undefined);
    const after = await h.request(admin, 'GET', '/v1/resources/mc/v1alpha1');
    expect(after.json.metadata).to.deep.equal(before.json.metadata);
  });

  it('answers a read after a write with the new version (answers are cached per store revision only)', async () => {
    const first = await h.request(admin, 'GET', '/v1/resources/mc/v1alpha1');
    const again = await h.request(admin, 'GET', '/v1/resources/mc/v1alpha1');
    expect(again.body).to.equal(first.body);
    const version = (first.json.metadata as { version: number }).version;
    await h.request(admin, 'PATCH', '/v1/machineconfig', { patches: ['machine:\n  certSANs: [cache.example.com]\n'] });
    const after = await h.request(admin, 'GET', '/v1/resources/mc/v1alpha1');
    expect((after.json.metadata as { version: number }).version).to.equal(version + 1);
    expect((after.json.spec as { yaml: string }).yaml).to.contain('cache.example.com');
  });

  it('streams a watch with bookmarks and resumes after the last bookmark with only the later changes', async () => {
    const first = await readWatch(h.apid.port, h.caPem, reader, '/v1/watch/cs', (lines) => lines.some((l) => l.type === 'bootstrapped'));
    expect(first.status).to.equal(200);
    const created = first.lines.filter((l) => l.type === 'created');
    expect(created.length).to.be.greaterThan(0);
    const mark = first.lines.find((l) => l.type === 'bootstrapped')!.bookmark!;

    await h.request(admin, 'PATCH', '/v1/machineconfig', { patches: ['machine:\n  certSANs: [resume.example.com]\n'] });
    await h.node.settle();

    const resumed = await readWatch(h.apid.port, h.caPem, reader, `/v1/watch/cs?since=${mark}`, (lines) =>
      lines.some((l) => l.type === 'updated' && ((l.resource?.spec.dnsNames as string[] | undefined) ?? []).includes('resume.example.com')),
    );
    expect(resumed.lines.length).to.be.greaterThan(0);
    expect(resumed.lines.every((l) => (l.bookmark ?? 0) > mark), 'only changes after the bookmark').to.equal(true);
    expect(resumed.lines.some((l) => l.type === 'bootstrapped'), 'no bootstrap on resume').to.equal(false);
    const bookmarks = resumed.lines.map((l) => l.bookmark!);
    expect(bookmarks).to.deep.equal([...bookmarks].sort((a, b) => a - b));
  });

  it('answers 410 with a re-list instruction for a bookmark the store cannot resume from', async () => {
    const gone = await readWatch(h.apid.port, h.caPem, reader, '/v1/watch/cs?since=999999999', () => false);
    expect(gone.status).to.equal(410);
    expect((JSON.parse(gone.body) as { error: string }).error).to.match(/list again/);
  });

  it('refuses a watch of a sensitive type to a reader', async () => {
    const refused = await readWatch(h.apid.port, h.caPem, reader, '/v1/watch/mc', () => false);
    expect(refused.status).to.equal(403);
    expect(JSON.parse(refused.body)).to.deep.equal({ error: 'not authorized' });
  });
});
