import { expect } from 'chai';
import { request } from 'node:https';
import { DateTime } from 'luxon';
import { createCsr, generateKeyPairSync, parseCertificatePem, parsePrivateKeyPem } from '../../src/pki/index.js';
import type { KeyPair } from '../../src/pki/index.js';
import { SECURITY_STATUS_ID, SecurityStatuses } from '../../src/resources/index.js';
import type { IssuedCertificatesSpec, SecurityStatusSpec } from '../../src/resources/index.js';
import { startTrustd } from '../../src/server/trustd/index.js';
import type { Trustd } from '../../src/server/trustd/index.js';
import { freshBundle } from '../controllers/node-harness.js';
import { cleanupTempFiles, openssl, tempFile } from '../pki/openssl.js';
import { ApidHarness } from './apid-harness.js';
import type { Credential } from './apid-harness.js';

interface Reply {
  status: number;
  type: string | undefined;
  body: Buffer;
}

describe('revocation of a node certificate: trustd signs nothing more for it, serves the CRL, SecurityStatus flags it', function () {
  this.timeout(30_000);
  let h: ApidHarness;
  let admin: Credential;
  let trustd: Trustd;
  let token: string;
  let server: { crt: string; key: string };

  before(async () => {
    // A CA made here carries cRLSign, so openssl verify -crl_check can use its CRL (Talos-made CAs lack it).
    const bundle = await freshBundle(new Date(Date.now() - 600_000));
    token = bundle.trustdInfo.token;
    h = await ApidHarness.start({ bundle, start: DateTime.utc().startOf('second') });
    admin = await h.role('os:admin');
    trustd = await startTrustd({ state: h.node.node.state, host: '127.0.0.1', port: 0, clock: h.node.clock, rateLimit: false });
    server = (await h.node.node.state.get<IssuedCertificatesSpec>({ namespace: 'secrets', type: 'ApiCertificates', id: 'api' })).spec.certificates.server;
  });
  after(async () => {
    await trustd.close();
    await h.close();
    cleanupTempFiles();
  });

  // trustd's own TLS is not under test here (trustd.test.ts covers it): its certificate names the node, not 127.0.0.1.
  function call(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: trustd.port, method, path, agent: false, rejectUnauthorized: false, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  const csr = (key: KeyPair, ip: string) => call('POST', '/v1/certificate', JSON.stringify({ csr: createCsr(key, { commonName: 'talos-node' }, { ipAddresses: [ip] }) }), { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' });
  const errorOf = (r: Reply) => (JSON.parse(r.body.toString('utf8')) as { error: string }).error;
  const status = async () => (await h.node.node.state.get<SecurityStatusSpec>({ namespace: SecurityStatuses.namespace, type: SecurityStatuses.type, id: SECURITY_STATUS_ID })).spec;

  it('refuses a CSR for a revoked node\'s names or key with 403 naming the rule, signs others, and signs again after --undo', async () => {
    const fresh = generateKeyPairSync('ecdsa');
    expect((await csr(fresh, '127.0.0.1')).status, 'before the revoke').to.equal(200);
    const revoked = await h.request(admin, 'POST', '/v1/revocations', { cert: server.crt, reason: 'node compromised' });
    expect(revoked.status, revoked.body).to.equal(200);
    const serial = (revoked.json.revocation as { spec: { serial: string } }).spec.serial;

    const byName = await csr(generateKeyPairSync('ecdsa'), '127.0.0.1');
    expect(byName.status).to.equal(403);
    expect(errorOf(byName)).to.match(new RegExp(`^rule "revoked node names": the CSR asks for 127\\.0\\.0\\.1, names of a revoked node certificate: certificate revoked \\(serial ${serial}, .* UTC: "node compromised"\\); trustd signs nothing for it until an admin lifts it with trustctl revoke --undo --serial ${serial}$`));
    const byKey = await csr(parsePrivateKeyPem(server.key), '10.9.9.8');
    expect(byKey.status).to.equal(403);
    expect(errorOf(byKey)).to.match(/^rule "revoked key": the CSR's public key is the key of a revoked certificate/);
    expect((await csr(generateKeyPairSync('ecdsa'), '10.9.9.9')).status, 'another node').to.equal(200);

    expect((await h.request(admin, 'POST', '/v1/revocations/lift', { cert: server.crt })).status).to.equal(200);
    expect((await csr(generateKeyPairSync('ecdsa'), '127.0.0.1')).status, 'after the undo').to.equal(200);
  });

  it('serves each CA\'s CRL unauthenticated at /crl/<ca>.crl (DER, application/pkix-crl), which openssl verifies and applies', async () => {
    const leaked = await h.role('os:admin');
    const other = await h.role('os:admin');
    expect((await h.request(admin, 'POST', '/v1/revocations', { cert: leaked.crt, reason: 'laptop stolen' })).status).to.equal(200);
    await h.node.settle();
    const reply = await call('GET', '/crl/os.crl');
    expect([reply.status, reply.type]).to.deep.equal([200, 'application/pkix-crl']);
    const crl = tempFile(reply.body, '.crl');
    const ca = tempFile(h.caPem);
    expect(openssl(['crl', '-inform', 'DER', '-in', crl, '-CAfile', ca, '-noout']).out).to.match(/verify OK/);
    const pem = tempFile(openssl(['crl', '-inform', 'DER', '-in', crl]).out);
    const at = String(Math.floor(h.node.clock.now().toMillis() / 1000));
    const refused = openssl(['verify', '-attime', at, '-crl_check', '-CRLfile', pem, '-CAfile', ca, tempFile(leaked.crt!)]);
    expect([refused.ok, /certificate revoked/.test(refused.out)]).to.deep.equal([false, true]);
    expect(openssl(['verify', '-attime', at, '-crl_check', '-CRLfile', pem, '-CAfile', ca, tempFile(other.crt!)]).ok).to.equal(true);
    for (const name of ['kubernetes', 'etcd', 'aggregator']) expect((await call('GET', `/crl/${name}.crl`)).status, name).to.equal(200);
    const unknown = await call('GET', '/crl/acme.crl');
    expect(unknown.status).to.equal(404);
    expect(errorOf(unknown)).to.match(/trustd serves \/crl\/os\.crl, \/crl\/kubernetes\.crl/);
    expect((await call('POST', '/crl/os.crl')).status).to.equal(405);
  });

  it('counts the revocations in force in SecurityStatus and flags the node\'s own revoked certificate as in use', async () => {
    const before = (await status()).revocations;
    expect((await h.request(admin, 'POST', '/v1/revocations', { cert: server.crt, reason: 'node compromised' })).status).to.equal(200);
    await h.node.settle();
    const s = await status();
    expect(s.revocations).to.equal(before + 1);
    expect(s.healthy).to.equal(false);
    const finding = s.findings.find((f) => f.code === 'RevokedCertificateInUse');
    expect(finding?.severity).to.equal('critical');
    expect(finding?.message).to.match(/this node still uses ApiCertificates\/api server \(serial [0-9a-f]+\), revoked at .*: "node compromised"; peers refuse it; it is replaced at its renewal/);
    expect(parseCertificatePem(server.crt).serialNumber.toLowerCase()).to.contain(finding!.message.match(/serial ([0-9a-f]+)/)![1]);
  });
});
