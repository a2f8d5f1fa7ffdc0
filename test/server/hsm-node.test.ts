import { expect } from 'chai';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { formatSecretsBundleYaml, generateMachineConfig, issueClientCertificate } from '../../src/config/index.js';
import type { SecretsBundle } from '../../src/config/index.js';
import { generateSecretsBundle } from '../../src/config/secrets-bundle-generate.js';
import { TokenCaKeys } from '../../src/config/token-ca-keys.js';
import { openToken, tokenCaMaker } from '../../src/config/token-cas.js';
import type { Pkcs11Settings } from '../../src/config/token-cas.js';
import { memoryCaKeys } from '../../src/controllers/certificate-cache.js';
import { createCsr, generateKeyPairSync } from '../../src/pki/index.js';
import { AuditRecords, CertificateStatuses, RevocationLists, SecurityStatuses } from '../../src/resources/index.js';
import type { AuditRecordSpec, CaName, CertificateStatusSpec, IssuedCertificatesSpec, RevocationListSpec, SecurityStatusSpec } from '../../src/resources/index.js';
import { copyIntoMemory, simulate } from '../../src/server/check/index.js';
import { startTrustd } from '../../src/server/trustd/index.js';
import type { Trustd } from '../../src/server/trustd/index.js';
import { NodeHarness } from '../controllers/node-harness.js';
import { cleanupTempFiles, openssl, tempFile, verifyStrict } from '../pki/openssl.js';
import { createSoftToken, pkcs11ToolMissing, softhsmMissing } from '../support/softhsm.js';
import { storeRevocation } from '../support/stored-revocation.js';
import type { SoftToken } from '../support/softhsm.js';

// now: trustd's own 24-hour certificate must be valid for real TLS handshakes
const START = DateTime.utc().startOf('second');
const ISSUED = [
  ['ApiCertificates', 'api'],
  ['TrustdCertificates', 'trustd'],
  ['EtcdSecrets', 'etcd'],
  ['KubernetesSecrets', 'k8s'],
  ['KubeletCertificates', 'kubelet'],
] as const;
const CA_OF = { os: 'os', etcd: 'etcd', kubernetes: 'k8s', aggregator: 'k8sAggregator' } as const;

/** POSTs to trustd: `{csr}` to /v1/certificate by default, or a kubelet CSR body to /v1/kubelet-csr. */
function post(port: number, caPem: string, token: string, body: Record<string, string>, path = '/v1/certificate'): Promise<{ status: number; body: { crt?: string; error?: string } }> {
  return new Promise((resolve, reject) => {
    const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` };
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, ca: caPem, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as { crt?: string; error?: string } }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The public keys of every PEM private key block in `text` (unreadable blocks count as found keys of unknown owner). */
function privateKeysIn(text: string): (KeyObject | 'unreadable')[] {
  const blocks = text.replace(/\\n/g, '\n').match(/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----/g) ?? [];
  return blocks.map((pem) => {
    try {
      return createPublicKey(createPrivateKey(pem.replaceAll('ED25519 PRIVATE KEY', 'PRIVATE KEY')));
    } catch {
      return 'unreadable';
    }
  });
}

describe('a node whose four CAs sign in a PKCS#11 token (SoftHSM2)', function () {
  this.timeout(60_000);
  let soft: SoftToken;
  let bundle: SecretsBundle;
  let settings: Pkcs11Settings;

  before(async function () {
    if (softhsmMissing() ?? pkcs11ToolMissing()) this.skip();
    soft = createSoftToken('node-cas');
    settings = { module: soft.module, token: soft.label, pinFile: soft.pinFile };
    const token = openToken(settings);
    try {
      bundle = await generateSecretsBundle({ now: START.toJSDate(), newCA: tokenCaMaker(token).newCA });
    } finally {
      token.close();
    }
  });
  after(() => {
    soft?.remove();
    cleanupTempFiles();
  });

  describe('with the right PIN', () => {
    let h: NodeHarness;
    let keys: TokenCaKeys;
    let trustd: Trustd;
    before(async () => {
      keys = new TokenCaKeys(settings, memoryCaKeys);
      h = await NodeHarness.start({ bundle, start: START, caKeys: keys });
      trustd = await startTrustd({ state: h.node.state, host: '127.0.0.1', port: 0, clock: h.clock, rateLimit: false, caKeys: keys, audit: h.node.audit, logger: (m, f) => h.logs.push(`${m} ${JSON.stringify(f ?? {})}`) });
    });
    after(async () => {
      await trustd?.close();
      await h?.destroy();
      keys?.close();
    });

    it('issues every certificate from the token; openssl verifies each one against its CA', async () => {
      let count = 0;
      for (const [type, id] of ISSUED) {
        const set = await h.node.state.get<IssuedCertificatesSpec>({ namespace: 'secrets', type, id });
        for (const [name, issued] of Object.entries(set.spec.certificates)) {
          const ca = bundle.certs[CA_OF[issued.issuer]].crt;
          const verdict = verifyStrict(ca, issued.crt, undefined, START.plus({ minutes: 1 }).toJSDate());
          expect(verdict.ok, `${id}/${name}: ${verdict.out}`).to.equal(true);
          count++;
        }
      }
      // the kubelet client and serving certificates included: the KubeletCertificateController signs in the token too
      expect(count).to.equal(15);
    });

    it('says every CA key lives in the token, and is healthy without the plaintext-key finding', async () => {
      const statuses = await h.node.state.list<CertificateStatusSpec>({ namespace: 'runtime', type: CertificateStatuses.type });
      const cas = statuses.filter((s) => s.spec.kind === 'ca');
      expect(cas.map((c) => `${c.metadata.id}=${c.spec.keyLocation}`).sort()).to.deep.equal(['ca-aggregator=hsm', 'ca-etcd=hsm', 'ca-kubernetes=hsm', 'ca-os=hsm']);
      const security = await h.node.state.get<SecurityStatusSpec>({ namespace: 'runtime', type: SecurityStatuses.type, id: 'securitystatus' });
      // the static machine.token note is the only finding (info): no CAKeysInConfig
      expect(security.spec.findings.map((f) => f.code)).to.deep.equal(['StaticTokenAccepted']);
      expect(security.spec.healthy).to.equal(true);
      expect(security.spec.cas.map((c) => c.keyLocation)).to.deep.equal(['hsm', 'hsm', 'hsm', 'hsm']);
    });

    it('trustd signs 16 concurrent CSRs in the token; each certificate verifies against the OS CA', async () => {
      const csrs = Array.from({ length: 16 }, (_, i) => createCsr(generateKeyPairSync('ecdsa'), { commonName: `w${i}` }, { ipAddresses: [`10.9.0.${i + 1}`] }));
      const answers = await Promise.all(csrs.map((csr) => post(trustd.port, bundle.certs.os.crt, bundle.trustdInfo.token, { csr })));
      for (const [i, a] of answers.entries()) {
        expect(a.status, a.body.error).to.equal(200);
        const verdict = verifyStrict(bundle.certs.os.crt, a.body.crt!, 'sslserver', START.plus({ minutes: 1 }).toJSDate());
        expect(verdict.ok, `${i}: ${verdict.out}`).to.equal(true);
      }
      expect(new Set(answers.map((a) => new X509Certificate(a.body.crt!).serialNumber)).size).to.equal(16);
    });

    it('records each certificate signed in the token in the audit trail, by serial: all 15 the controllers issued and a CSR trustd signed', async () => {
      const csr = createCsr(generateKeyPairSync('ecdsa'), { commonName: 'audited' }, { ipAddresses: ['10.9.1.1'] });
      const answer = await post(trustd.port, bundle.certs.os.crt, bundle.trustdInfo.token, { csr });
      expect(answer.status, answer.body.error).to.equal(200);
      await h.node.audit.flushed();
      const records = (await h.node.state.list<AuditRecordSpec>({ namespace: AuditRecords.namespace, type: AuditRecords.type })).map((r) => r.spec).filter((r) => r.action === 'certificate-issued');
      const bySerial = new Map(records.map((r) => [r.details.serial, r]));
      let count = 0;
      for (const [type, id] of ISSUED) {
        const set = await h.node.state.get<IssuedCertificatesSpec>({ namespace: 'secrets', type, id });
        for (const [name, issued] of Object.entries(set.spec.certificates)) {
          const record = bySerial.get(new X509Certificate(issued.crt).serialNumber.toUpperCase());
          expect(record?.details, `${type}/${id}/${name}`).to.deep.include({ ca: issued.issuer, certificate: `${type}/${id}/${name}` });
          count++;
        }
      }
      expect(count).to.equal(15);
      const signed = bySerial.get(new X509Certificate(answer.body.crt!).serialNumber.toUpperCase());
      expect(signed?.details).to.deep.include({ ca: 'os', issuedBy: 'trustd', node: 'audited' });
    });

    it('signs each CA\'s CRL in the token: openssl crl -CAfile verifies all four, and verify -crl_check refuses a revoked certificate', async () => {
      const now = START.plus({ minutes: 1 }).toJSDate();
      const revoked = await issueClientCertificate(bundle.certs.os, { roles: ['os:admin'], now: START.toJSDate(), signingCA: (os) => keys.signingCA(os.crt, os.key, 'machine.ca') });
      const spec = await storeRevocation(h.node.state, revoked.crt, 'laptop stolen', START.toJSDate());
      await h.settle();
      for (const [name, field] of Object.entries(CA_OF) as [CaName, (typeof CA_OF)[CaName]][]) {
        const list = (await h.node.state.get<RevocationListSpec>({ namespace: RevocationLists.namespace, type: RevocationLists.type, id: name })).spec;
        expect(list.serials, name).to.deep.equal(name === 'os' ? [spec.serial] : []);
        expect(openssl(['crl', '-in', tempFile(list.pem), '-CAfile', tempFile(bundle.certs[field].crt), '-noout']).out, name).to.match(/verify OK/);
      }
      const os = (await h.node.state.get<RevocationListSpec>({ namespace: RevocationLists.namespace, type: RevocationLists.type, id: 'os' })).spec;
      const refused = openssl(['verify', '-attime', String(Math.floor(now.getTime() / 1000)), '-crl_check', '-CRLfile', tempFile(os.pem), '-CAfile', tempFile(bundle.certs.os.crt), tempFile(revoked.crt)]);
      expect(refused.ok).to.equal(false);
      expect(refused.out).to.match(/certificate revoked/);
    });

    it('trustd signs kubelet client and serving CSRs with the Kubernetes CA in the token; openssl verifies both against it', async () => {
      const k8s = bundle.certs.k8s.crt;
      const subject = { commonName: 'system:node:w1', organizations: ['system:nodes'] };
      const client = await post(trustd.port, bundle.certs.os.crt, bundle.secrets.bootstrapToken, { kind: 'client', node: 'w1', csr: createCsr(generateKeyPairSync('ecdsa'), subject) }, '/v1/kubelet-csr');
      const server = await post(trustd.port, bundle.certs.os.crt, bundle.secrets.bootstrapToken, { kind: 'server', node: 'w1', csr: createCsr(generateKeyPairSync('ecdsa'), subject, { dnsNames: ['w1'], ipAddresses: ['127.0.0.1'] }) }, '/v1/kubelet-csr');
      expect(client.status, client.body.error).to.equal(200);
      expect(server.status, server.body.error).to.equal(200);
      const at = START.plus({ minutes: 1 }).toJSDate();
      const verdicts = [verifyStrict(k8s, client.body.crt!, 'sslclient', at), verifyStrict(k8s, server.body.crt!, 'sslserver', at)];
      for (const v of verdicts) expect(v.ok, v.out).to.equal(true);
      expect(new X509Certificate(client.body.crt!).subject).to.include('CN=system:node:w1');
    });

    it('check looks ahead through the token: a year of renewals signed there, none failing (with the keys in memory only, they would)', async () => {
      const from = DateTime.fromMillis(h.clock.now().toMillis(), { zone: 'utc' });
      const report = await simulate((c) => copyIntoMemory(h.node.state, h.node.registry, c), { from, years: 1, caKeys: keys });
      expect(report.findings.filter((f) => f.code === 'RenewalFails'), JSON.stringify(report.findings)).to.deep.equal([]);
      expect(report.certificates.find((c) => c.id === 'trustd-server')?.renewals).to.be.greaterThan(100);
      const blind = await simulate((c) => copyIntoMemory(h.node.state, h.node.registry, c), { from, years: 1, maxWakeUps: 50 });
      expect(blind.findings.map((f) => f.code)).to.include('RenewalFails');
    });

    it('trustd answers 503 naming the token while it cannot be opened, and signs again once it can', async () => {
      const csr = createCsr(generateKeyPairSync('ecdsa'), { commonName: 'w' }, { ipAddresses: ['10.9.0.99'] });
      writeFileSync(soft.pinFile, '0000\n');
      keys.close(); // as after a signing failure: the next request opens the token again
      try {
        const refused = await post(trustd.port, bundle.certs.os.crt, bundle.trustdInfo.token, { csr });
        expect(refused.status).to.equal(503);
        expect(refused.body.error).to.equal(
          `trustd cannot sign now: PKCS#11 token "node-cas" (module ${soft.module}): login refused (CKR_PIN_INCORRECT); put the token's user PIN in the file named by --pkcs11-pin-file (TRUSTPLANE_PKCS11_PIN_FILE)`,
        );
      } finally {
        writeFileSync(soft.pinFile, '1234\n');
      }
      expect((await post(trustd.port, bundle.certs.os.crt, bundle.trustdInfo.token, { csr })).status).to.equal(200);
    });

    it('writes no CA private key anywhere: bundle, machine config, store files, resources as read back, logs', async () => {
      const caKeys = Object.values(CA_OF).map((name) => new X509Certificate(bundle.certs[name].crt).publicKey);
      const written = [
        formatSecretsBundleYaml(bundle),
        generateMachineConfig(bundle, { type: 'controlplane', clusterName: 'demo', endpoint: 'https://10.5.0.2:6443' }).toYaml(),
        ...filesUnder(h.dir).map((f) => readFileSync(f, 'latin1')),
        h.logs.join('\n'),
      ];
      // resources as the State API gives them back: sealed specs unsealed, base64 fields decoded
      for (const def of h.node.registry.all()) {
        for (const r of await h.node.state.list({ namespace: def.namespace, type: def.type })) {
          const text = JSON.stringify(r.spec);
          written.push(text, ...(text.match(/[A-Za-z0-9+/]{200,}={0,2}/g) ?? []).map((b) => Buffer.from(b, 'base64').toString('latin1')));
        }
      }
      expect(written.join('\n')).to.include('pkcs11:token=node-cas;object=trustplane%20os%20CA;id=%');
      let keysSeen = 0;
      for (const text of written) {
        for (const key of privateKeysIn(text)) {
          keysSeen++;
          expect(key, 'a private key that cannot be read').to.not.equal('unreadable');
          for (const ca of caKeys) expect(key !== 'unreadable' && key.equals(ca), 'a CA private key was written').to.equal(false);
        }
      }
      // the leaf keys and the service-account key are there: the search does find private keys where they are
      expect(keysSeen).to.be.greaterThan(15);
    });
  });

  describe('with a wrong PIN', () => {
    let h: NodeHarness;
    let keys: TokenCaKeys;
    let trustd: Trustd;
    const wrongPin = () => join(soft.dir, 'wrong-pin');
    before(async () => {
      writeFileSync(wrongPin(), '0000\n', { mode: 0o600 });
      keys = new TokenCaKeys({ ...settings, pinFile: wrongPin() }, memoryCaKeys);
      h = await NodeHarness.start({ bundle, start: START, caKeys: keys });
      trustd = await startTrustd({ state: h.node.state, host: '127.0.0.1', port: 0, clock: h.clock, rateLimit: false, caKeys: keys });
    });
    after(async () => {
      await trustd?.close();
      await h?.destroy();
      keys?.close();
    });

    it('keeps running, reports each CA unavailable with the module, the token and the fix, then recovers once the PIN file is fixed', async () => {
      const security = await h.node.state.get<SecurityStatusSpec>({ namespace: 'runtime', type: SecurityStatuses.type, id: 'securitystatus' });
      expect(security.spec.healthy).to.equal(false);
      const unavailable = security.spec.findings.filter((f) => f.code === 'CAKeyUnavailable');
      expect(unavailable.map((f) => f.subject).sort()).to.deep.equal(['ca-aggregator', 'ca-etcd', 'ca-kubernetes', 'ca-os']);
      expect(unavailable[0].message).to.include(`PKCS#11 token "node-cas" (module ${soft.module}): login refused (CKR_PIN_INCORRECT); put the token's user PIN in the file named by --pkcs11-pin-file`).and.include('next retry');
      const os = await h.node.state.get<CertificateStatusSpec>({ namespace: 'runtime', type: CertificateStatuses.type, id: 'ca-os' });
      expect(os.spec).to.include({ keyLocation: 'hsm' });
      expect(os.spec.failures).to.be.greaterThan(0);
      expect(os.spec.nextRetry).to.be.a('string');

      const refused = await post(trustd.port, bundle.certs.os.crt, bundle.trustdInfo.token, { csr: createCsr(generateKeyPairSync('ecdsa'), { commonName: 'w' }, { ipAddresses: ['10.9.0.1'] }) }).catch((err: Error) => ({ status: 0, body: { error: err.message } }));
      // trustd has no serving certificate yet (it is signed by the OS CA, in the token): the connection itself fails
      expect(refused.status).to.equal(0);

      writeFileSync(wrongPin(), '1234\n');
      await h.clock.advance(10 * 60_000);
      await h.settle();
      const after = await h.node.state.get<SecurityStatusSpec>({ namespace: 'runtime', type: SecurityStatuses.type, id: 'securitystatus' });
      expect(after.spec.findings.map((f) => f.code), JSON.stringify(after.spec.findings)).to.deep.equal(['StaticTokenAccepted']);
      expect(after.spec.certificates).to.equal(19);
    });
  });
});
