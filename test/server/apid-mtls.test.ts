import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import { expect } from 'chai';
import { ApidHarness } from './apid-harness.js';
import type { Answer, Credential } from './apid-harness.js';
import { CALLS, expected } from './apid-mtls-cases.js';
import type { Call } from './apid-mtls-cases.js';
import { curlCall, opensslCall } from './apid-external-clients.js';

function validityOf(cred: Credential) {
  if (!cred.crt) return undefined;
  const x = new X509Certificate(cred.crt);
  return { notBefore: new Date(x.validFrom), notAfter: new Date(x.validTo) };
}

function check(answer: Answer, cred: Credential, call: Call, now: Date, client: string): void {
  const want = expected(cred, call, now, validityOf(cred));
  const cell = `${client}: ${cred.name} x ${call.name}`;
  expect(answer.status, `${cell}: ${answer.body}`).to.equal(want.status);
  if (want.error !== undefined) expect(answer.json, cell).to.deep.equal({ error: want.error });
}

describe('apid mutual TLS and roles', function () {
  let h: ApidHarness;
  let creds: Credential[];

  before(async () => {
    for (const tool of ['curl', 'openssl'])
      if (spawnSync(tool, ['--version']).error) throw new Error(`${tool} is not installed; the mTLS matrix runs it as an independent client (apt-get install ${tool})`);
    h = await ApidHarness.start();
    creds = await h.matrixCredentials();
  });
  after(async () => h?.close());

  it('answers every credential x call cell with the expected status and message (Node https client)', async () => {
    for (const cred of creds) for (const call of CALLS) check(await h.request(cred, call.method, call.path, call.body), cred, call, h.now(), 'node');
  });

  it('answers the same matrix to curl --cert', async () => {
    for (const cred of creds) for (const call of CALLS) check(await curlCall(h.apid.port, h.caPem, cred, call), cred, call, h.now(), 'curl');
  });

  it('answers the same matrix to openssl s_client', async () => {
    for (const cred of creds) for (const call of CALLS) check(await opensslCall(h.apid.port, h.caPem, cred, call), cred, call, h.now(), 'openssl');
  });

  it('refuses a certificate from another CA with our CA\'s very subject with the unknown-authority 401, also on a second request of the connection', async () => {
    const other = creds.find((c) => c.name === 'unknown CA')!;
    const ours = new X509Certificate(h.caPem);
    // The matrix's "unknown CA" is such a certificate: another cluster's OS CA is O=talos too; only its key differs.
    expect(new X509Certificate(other.crt!).issuer).to.equal(ours.subject);
    expect(new X509Certificate(other.crt!).verify(ours.publicKey)).to.equal(false);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 2; i++) {
        const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          https
            .get({ host: '127.0.0.1', port: h.apid.port, path: '/v1/version', agent, ca: h.caPem, cert: other.crt, key: other.key }, (res) => {
              let body = '';
              res.on('data', (d: Buffer) => (body += d.toString()));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
            })
            .on('error', reject);
        });
        expect(answer).to.deep.equal({ status: 401, body: '{"error":"x509: certificate signed by unknown authority"}' });
      }
    } finally {
      agent.destroy();
    }
  });

  it('gives an admin the data behind each allowed call', async () => {
    const admin = creds.find((c) => c.name === 'os:admin')!;
    const statuses = await h.request(admin, 'GET', '/v1/resources/cs');
    expect((statuses.json as unknown as { metadata: { type: string } }[]).map((r) => r.metadata.type)).to.include('CertificateStatuses');
    const secret = await h.request(admin, 'GET', '/v1/resources/osrootsecrets/os');
    expect((secret.json as { spec?: { issuingCA?: { crt?: string } } }).spec?.issuingCA?.crt).to.equal(h.caPem);
    const issued = await h.request(admin, 'POST', '/v1/talosconfig', { roles: ['os:reader'], ttlHours: 24 });
    const cert = new X509Certificate(issued.json.crt as string);
    expect(cert.subject).to.contain('O=os:reader');
    expect(cert.checkIssued(new X509Certificate(h.caPem))).to.equal(true);
    expect(new Date(cert.validTo).getTime() - h.now().getTime()).to.be.closeTo(24 * 3_600_000, 60_000);
  });

  it('refuses an unknown type and an unknown call with messages naming them', async () => {
    const reader = creds.find((c) => c.name === 'os:reader')!;
    const unknown = await h.request(reader, 'GET', '/v1/resources/nosuchthing');
    expect(unknown.status).to.equal(404);
    expect(unknown.json).to.deep.equal({ error: 'resource type "nosuchthing" is not supported' });
    const noCall = await h.request(reader, 'GET', '/v1/nothing');
    expect(noCall.json).to.deep.equal({ error: 'no such call: GET /v1/nothing' });
  });

  it('takes no roles from the roles header unless the certificate is an impersonator\'s', async () => {
    const reader = creds.find((c) => c.name === 'os:reader')!;
    const answer = await h.request(reader, 'GET', '/v1/resources/osrootsecrets/os', undefined, { 'trustplane-roles': 'os:admin' });
    expect(answer.status).to.equal(403);
    expect(answer.json).to.deep.equal({ error: 'not authorized' });
  });

  it('lets os:etcd:backup, operator and admin take a store snapshot, and no one else', async () => {
    for (const cred of creds.filter((c) => c.name.startsWith('os:'))) {
      const answer = await h.request(cred, 'GET', '/v1/etcd/snapshot');
      const allowed = ['os:etcd:backup', 'os:operator', 'os:admin'].includes(cred.name);
      expect(answer.status, cred.name).to.equal(allowed ? 200 : 403);
      if (allowed) expect(answer.body.startsWith('SQLite format 3')).to.equal(true);
    }
  });
});
