// Each CA operation leaves its record, made in process through the real servers: controllers issuing at start, config
// new, apply-config and patch, a rotation started, trustd signing (node and kubelet CSRs), revocations and their undo,
// join tokens made, used, revoked and the static token switched, and refused calls and CSRs. Only os:admin and
// os:operator read the trail. No record holds a key, a token or a secret value.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { createCA, createCsr, encodePrivateKeyPem, generateKeyPairSync } from '../../src/pki/index.js';
import { tokenFingerprint } from '../../src/controllers/audit/index.js';
import { AuditRecords, ApiCertificates } from '../../src/resources/index.js';
import type { AuditRecordSpec, IssuedCertificatesSpec } from '../../src/resources/index.js';
import { startTrustd } from '../../src/server/trustd/index.js';
import type { Trustd } from '../../src/server/trustd/index.js';
import { ApidHarness, credential } from './apid-harness.js';
import type { Credential } from './apid-harness.js';
import { issueClientCertificate } from '../../src/config/index.js';
import { generateSecretsBundleFor } from './apid-pki.js';

const NEW_TOKEN = 'abcdef.0123456789abcdef';
let joinToken = '';

describe('audit records of CA operations (apid, trustd, controllers in process)', function () {
  this.timeout(30_000);
  let h: ApidHarness;
  let admin: Credential;
  let trustd: Trustd;
  const records = async () => {
    await h.node.node.audit.flushed();
    return (await h.node.node.state.list<AuditRecordSpec>({ namespace: AuditRecords.namespace, type: AuditRecords.type })).map((r) => r.spec);
  };
  const newest = async (action: string) => (await records()).filter((r) => r.action === action).at(-1);

  before(async () => {
    h = await ApidHarness.start();
    admin = await h.role('os:admin');
    trustd = await startTrustd({ state: h.node.node.state, host: '127.0.0.1', port: 0, clock: h.node.clock, rateLimit: false, audit: h.node.node.audit });
  });
  after(async () => {
    await trustd?.close();
    await h?.close();
  });

  it('records each certificate the issuing controllers issue, by controller, with CA, serial, subject, SANs and lifetime', async () => {
    const api = await h.node.node.state.get<IssuedCertificatesSpec>({ namespace: ApiCertificates.namespace, type: ApiCertificates.type, id: 'api' });
    const server = new X509Certificate(api.spec.certificates.server.crt);
    const issued = (await records()).find((r) => r.details.certificate === 'ApiCertificates/api/server');
    expect(issued).to.deep.include({ actor: 'controller:ApiCertificateController', action: 'certificate-issued' });
    expect(issued!.details).to.deep.include({ ca: 'os', serial: server.serialNumber.toUpperCase(), subject: 'CN=talos-node', sans: ['cp-1', '127.0.0.1'], reason: 'DoesNotExist' });
    expect(issued!.details.lifetimeHours).to.be.a('number');
    const actors = new Set((await records()).map((r) => r.actor));
    for (const c of ['Api', 'Trustd', 'Etcd', 'Kubernetes']) expect(actors).to.include(`controller:${c}CertificateController`);
  });

  it('records config new over the API: by whom, from where, for which roles, and the serial it issued', async () => {
    const answer = await h.request(admin, 'POST', '/v1/talosconfig', { roles: ['os:reader'], ttlHours: 24 });
    expect(answer.status).to.equal(200);
    const crt = new X509Certificate(answer.json.crt as string);
    const r = await newest('certificate-issued');
    expect(r!.actor).to.match(/^CN=[^,]+,O=os:admin$/);
    expect(r!.source).to.equal('127.0.0.1');
    expect(r!.details).to.deep.include({ issuedBy: 'config new', roles: ['os:reader'], ca: 'os', serial: crt.serialNumber.toUpperCase() });
    // NotBefore to NotAfter: the 24 h asked for plus the few minutes backdated for clock skew.
    expect(r!.details.lifetimeHours).to.be.within(24, 24.1);
  });

  it('records a machine config change over the API with the changed field paths, never a secret value', async () => {
    const patched = await h.request(admin, 'PATCH', '/v1/machineconfig', { patches: [`machine:\n  token: ${NEW_TOKEN}\n  certSANs: [audit.example]\n`] });
    expect(patched.status).to.equal(200);
    const r = await newest('machine-config-changed');
    expect(r!.details).to.deep.equal({ via: 'patch', fields: ['machine.certSANs', 'machine.token'], version: patched.json.version });
    expect(r!.actor).to.match(/O=os:admin/);
    await h.node.settle();
    const reissued = (await records()).filter((x) => x.details.certificate === 'ApiCertificates/api/server').at(-1);
    expect(reissued!.details).to.deep.include({ reason: 'RequestChanged' });
    expect(reissued!.details.sans).to.include('audit.example');
  });

  it('records the start of a CA rotation (phase Staged) by its caller', async () => {
    const ca = await createCA('os', { algorithm: 'ed25519' });
    const started = await h.request(admin, 'POST', '/v1/carotations', { ca: 'os', newCA: { crt: ca.certPem, key: encodePrivateKeyPem(ca.key) }, controlPlanes: ['10.5.0.2:50000'] });
    expect(started.status).to.equal(200);
    const r = await newest('ca-rotation-phase');
    expect(r!.details).to.deep.include({ ca: 'os', phase: 'Staged', newCASerial: ca.cert.serialNumber.toUpperCase() });
    expect(r!.actor).to.match(/O=os:admin/);
  });

  it('records refused calls: who, from where, which call and why (403 for a reader, 401 for an unknown CA)', async () => {
    const reader = await h.role('os:reader');
    expect((await h.request(reader, 'PATCH', '/v1/machineconfig', { patches: ['machine: {}\n'] })).status).to.equal(403);
    const other = await generateSecretsBundleFor(h.now());
    const stranger = credential('stranger', await issueClientCertificate(other.certs.os, { roles: ['os:admin'], now: h.now() }));
    const refusedStranger = await h.request(stranger, 'GET', '/v1/version');
    expect(refusedStranger.status).to.equal(401);
    const refused = (await records()).filter((r) => r.action === 'refused').slice(-2);
    expect(refused[0]).to.deep.include({ source: '127.0.0.1' });
    expect(refused[0].actor).to.match(/O=os:reader/);
    expect(refused[0].details).to.deep.equal({ service: 'apid', status: 403, call: 'PATCH /v1/machineconfig', reason: 'not authorized' });
    expect(refused[1].actor).to.match(/O=os:admin.* \(not verified\)$/);
    expect(refused[1].details).to.deep.include({ service: 'apid', status: 401, call: 'GET /v1/version', reason: refusedStranger.json.error });
  });

  it('records what trustd signs (for which node, with which token by fingerprint) and the CSRs it refuses', async () => {
    const csr = createCsr(generateKeyPairSync('ecdsa'), { commonName: 'worker-7' }, { ipAddresses: ['10.5.0.7'] });
    const signed = await postCsr(trustd.port, h.caPem, csr, NEW_TOKEN);
    expect(signed.status).to.equal(200);
    const r = await newest('certificate-issued');
    expect(r).to.deep.include({ actor: `token ${tokenFingerprint(NEW_TOKEN)}`, source: '127.0.0.1' });
    expect(r!.details).to.deep.include({ issuedBy: 'trustd', node: 'worker-7', token: tokenFingerprint(NEW_TOKEN), sans: ['10.5.0.7'], serial: new X509Certificate(signed.body.crt!).serialNumber.toUpperCase() });
    expect((await postCsr(trustd.port, h.caPem, csr, 'wrong.0000000000000000')).status).to.equal(401);
    expect((await newest('refused'))!.details).to.deep.equal({ service: 'trustd', status: 401, reason: 'invalid token' });
  });

  it('records a revocation over the API and its undo: by whom, from where, CA, serial, subject and reason', async () => {
    const leaked = await h.role('os:admin');
    const crt = new X509Certificate(leaked.crt!);
    const certificate = { ca: 'os', serial: crt.serialNumber.toUpperCase(), subject: 'CN=talosctl-client,O=os:admin', reason: 'laptop stolen', reasonCode: 'keyCompromise' };
    expect((await h.request(admin, 'POST', '/v1/revocations', { cert: leaked.crt, reason: 'laptop stolen' })).status).to.equal(200);
    const revoked = await newest('certificate-revoked');
    expect(revoked).to.deep.include({ source: '127.0.0.1' });
    expect(revoked!.actor).to.match(/^CN=[^,]+,O=os:admin$/);
    expect(revoked!.details).to.deep.include(certificate);
    expect(revoked!.details.fingerprint).to.be.a('string').and.not.equal('');

    expect((await h.request(admin, 'POST', '/v1/revocations/lift', { cert: leaked.crt })).status).to.equal(200);
    const lifted = await newest('revocation-lifted');
    expect(lifted).to.deep.include({ actor: revoked!.actor, source: '127.0.0.1' });
    expect(lifted!.details).to.deep.include({ ...certificate, revokedBy: revoked!.actor });
    expect(lifted!.seq).to.be.greaterThan(revoked!.seq);
  });

  it('records a join token made over the API, each use at trustd (node, uses left), its revocation and the static token switch', async () => {
    const created = await h.request(admin, 'POST', '/v1/jointokens', { uses: 2, ttlSeconds: 3600, nodeIPs: ['10.5.0.8'] });
    expect(created.status).to.equal(200);
    joinToken = created.json.token as string;
    const id = joinToken.split('.')[0];
    const made = await newest('token-created');
    expect(made).to.deep.include({ source: '127.0.0.1' });
    expect(made!.actor).to.match(/O=os:admin$/);
    expect(made!.details).to.deep.include({ joinToken: id, token: tokenFingerprint(joinToken), uses: 2, nodeIPs: ['10.5.0.8'] });

    const csr = createCsr(generateKeyPairSync('ecdsa'), { commonName: 'worker-8' }, { ipAddresses: ['10.5.0.8'] });
    const signed = await postCsr(trustd.port, h.caPem, csr, joinToken);
    expect(signed.status).to.equal(200);
    const used = await newest('token-used');
    expect(used).to.deep.include({ actor: `token ${tokenFingerprint(joinToken)}`, source: '127.0.0.1' });
    expect(used!.details).to.deep.equal({ joinToken: id, token: tokenFingerprint(joinToken), node: 'worker-8', usesLeft: 1 });
    expect((await newest('certificate-issued'))!.details).to.deep.include({ issuedBy: 'trustd', node: 'worker-8', serial: new X509Certificate(signed.body.crt!).serialNumber.toUpperCase() });

    expect((await h.request(admin, 'DELETE', `/v1/jointokens/${id}`)).status).to.equal(200);
    expect((await newest('token-revoked'))!.details).to.deep.equal({ joinToken: id });
    expect((await postCsr(trustd.port, h.caPem, csr, joinToken)).status).to.equal(401);
    expect((await newest('token-used'))!.seq).to.equal(used!.seq);

    expect((await h.request(admin, 'PUT', '/v1/tokenpolicy', { staticToken: 'refused' })).status).to.equal(200);
    const switched = await newest('static-token-mode');
    expect(switched!.details).to.deep.equal({ staticToken: 'refused' });
    expect(switched!.actor).to.match(/O=os:admin$/);
    expect((await h.request(admin, 'PUT', '/v1/tokenpolicy', { staticToken: 'accepted' })).status).to.equal(200);
    expect((await newest('static-token-mode'))!.details).to.deep.equal({ staticToken: 'accepted' });
  });

  it('records a kubelet certificate trustd signs: node, kind, how the kubelet authenticated, CA and serial', async () => {
    const bootstrap = h.bundle.secrets.bootstrapToken;
    const csr = createCsr(generateKeyPairSync('ecdsa'), { commonName: 'system:node:worker-9', organizations: ['system:nodes'] });
    const signed = await postCsr(trustd.port, h.caPem, csr, bootstrap, { path: '/v1/kubelet-csr', body: { kind: 'client', node: 'worker-9' } });
    expect(signed.status, signed.body.error).to.equal(200);
    const r = await newest('certificate-issued');
    expect(r).to.deep.include({ actor: `token ${tokenFingerprint(bootstrap)}`, source: '127.0.0.1' });
    expect(r!.details).to.deep.include({
      issuedBy: 'trustd',
      kind: 'client',
      node: 'worker-9',
      auth: 'token',
      ca: 'kubernetes',
      subject: 'O=system:nodes,CN=system:node:worker-9',
      serial: new X509Certificate(signed.body.crt!).serialNumber.toUpperCase(),
    });
  });

  it('lets os:admin and os:operator read and verify the trail, and refuses os:reader', async () => {
    const reader = await h.role('os:reader');
    const operator = await h.role('os:operator');
    for (const path of ['/v1/resources/AuditRecords', '/v1/resources/auditrecords/000000000001', '/v1/watch/AuditRecords', '/v1/resources/AuditHeads', '/v1/audit/verify']) {
      const refused = await h.request(reader, 'GET', path);
      expect(refused.status, path).to.equal(403);
      expect(refused.json.error).to.equal('not authorized');
    }
    const listed = await h.request(operator, 'GET', '/v1/resources/AuditRecords');
    expect(listed.status).to.equal(200);
    expect((JSON.parse(listed.body) as unknown[]).length).to.be.greaterThan(5);
    const verdict = await h.request(operator, 'GET', '/v1/audit/verify');
    expect(verdict.json).to.include({ ok: true });
  });

  it('holds no key, token or secret value in any record', async () => {
    const text = JSON.stringify(await records());
    expect(text).not.to.include('PRIVATE KEY');
    const { secrets } = h.bundle;
    for (const secret of [NEW_TOKEN, joinToken, joinToken.split('.')[1], h.bundle.trustdInfo.token, h.bundle.certs.os.key, secrets.bootstrapToken, secrets.secretboxEncryptionSecret ?? secrets.bootstrapToken]) {
      expect(text).not.to.include(secret);
    }
  });
});

/** A CSR to trustd: a node's (POST /v1/certificate) unless `to` names another path and what else its body holds. */
function postCsr(port: number, ca: string, csr: string, token: string, to: { path: string; body: Record<string, string> } = { path: '/v1/certificate', body: {} }): Promise<{ status: number; body: { crt?: string; error?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: to.path, ca, agent: false, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) as { crt?: string } }));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ ...to.body, csr }));
  });
}
