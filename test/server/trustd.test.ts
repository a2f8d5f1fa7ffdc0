import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { X509Certificate, generateKeyPairSync as generateRawKeyPair } from 'node:crypto';
import { request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { DateTime } from 'luxon';
import { parseMachineConfig } from '../../src/config/index.js';
import { createCsr, decodePem, encodePem, encodePrivateKeyPkcs8Pem, generateKeyPairSync, inspectCertificate, keyPairOf, verifyChain } from '../../src/pki/index.js';
import type { KeyPair } from '../../src/pki/index.js';
import { MACHINE_CONFIG_ID, MachineConfigs } from '../../src/resources/index.js';
import type { MachineConfigSpec } from '../../src/resources/index.js';
import { startTrustd } from '../../src/server/trustd/index.js';
import type { Trustd } from '../../src/server/trustd/index.js';
import { NodeHarness, fixtureBundle } from '../controllers/node-harness.js';
import { tempFile, verifyStrict, x509Text } from '../pki/openssl.js';
import { run } from './apid-external-clients.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: { crt?: string; ca?: string; error?: string };
  peer: X509Certificate;
}

const bundle = fixtureBundle();
const OS_CA = bundle.certs.os.crt;
const TOKEN = bundle.trustdInfo.token;
const P256 = generateKeyPairSync('ecdsa');

function post(port: number, body: string, authorization: string | null = `Bearer ${TOKEN}`): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (authorization !== null) headers.Authorization = authorization;
    // A fresh connection each time, so a re-issued server certificate is seen.
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/certificate', ca: OS_CA, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const peer = (res.socket as TLSSocket).getPeerX509Certificate()!;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'], peer });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const csrBody = (csr: string) => JSON.stringify({ csr });

/** A CSR made by openssl with the given extra -addext options (what our own createCsr cannot ask for). */
function opensslCsr(subject: string, ...addext: string[]): string {
  return opensslCsrFor(P256, subject, ...addext);
}

function opensslCsrFor(keyPair: KeyPair, subject: string, ...addext: string[]): string {
  const key = tempFile(encodePrivateKeyPkcs8Pem(keyPair));
  const args = ['req', '-new', '-key', key, '-subj', subject, ...addext.flatMap((e) => ['-addext', e])];
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

describe('trustd (CSR signing with a token)', function () {
  this.timeout(60_000);
  let h: NodeHarness;
  let trustd: Trustd;
  const logs: { message: string; fields?: Record<string, unknown> }[] = [];
  const signedCount = () => logs.filter((l) => l.message === 'trustd signed a certificate').length;

  before(async () => {
    // Real time: curl and Node's TLS client check trustd's certificate against the system clock.
    h = await NodeHarness.start({ bundle, start: DateTime.utc().startOf('second'), addresses: ['10.5.0.2'], hostname: 'cp-1' });
    trustd = await startTrustd({ state: h.node.state, host: '127.0.0.1', port: 0, clock: h.clock, rateLimit: false, logger: (message, fields) => logs.push({ message, fields }) });
  });
  after(async () => {
    await trustd.close();
    await h.destroy();
  });

  it('signs a good CSR: serverAuth only, SANs copied, 24 h, verified by openssl against the OS CA, with the accepted CAs', async () => {
    const csr = createCsr(P256, { commonName: 'talos-node' }, { dnsNames: ['worker-1'], ipAddresses: ['10.5.0.3'] });
    const answer = await post(trustd.port, csrBody(csr));
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
    const crt = answer.body.crt!;
    expect(verifyStrict(answer.body.ca!, crt, 'sslserver').ok).to.equal(true);
    expect(verifyStrict(OS_CA, crt, 'sslserver').ok).to.equal(true);
    expect(answer.body.ca).to.equal(OS_CA.endsWith('\n') ? OS_CA : `${OS_CA}\n`);
    const text = x509Text(crt);
    expect(text).to.match(/Subject: CN ?= ?talos-node\n/);
    expect(text).to.match(/X509v3 Extended Key Usage: *\n\s*TLS Web Server Authentication\n/);
    expect(text).to.match(/X509v3 Key Usage: critical\n\s*Digital Signature\n/);
    expect(text).to.match(/DNS:worker-1, IP Address:10\.5\.0\.3/);
    expect(text).to.match(/CA:FALSE/);
    const info = inspectCertificate(crt);
    expect(info.notAfter.getTime() - h.clock.now().toMillis()).to.equal(24 * 3_600_000);
    expect(new X509Certificate(crt).publicKey.equals(P256.publicKey)).to.equal(true);
  });

  it('strips a requested Organization: O=os:admin comes back without O and with serverAuth only, so apid refuses it as a client', async () => {
    const csr = createCsr(P256, { commonName: 'talos-node', organizations: ['os:admin'] }, { ipAddresses: ['10.5.0.3'] });
    const answer = await post(trustd.port, csrBody(csr));
    expect(answer.status).to.equal(200);
    const info = inspectCertificate(answer.body.crt!);
    expect(info.subject.organizations).to.deep.equal([]);
    expect(x509Text(answer.body.crt!)).to.not.match(/O ?= ?os:admin/);
    expect(info.extKeyUsage).to.deep.equal(['serverAuth']);
    expect(verifyStrict(OS_CA, answer.body.crt!, 'sslclient').ok).to.equal(false);
    const asClient = verifyChain(new X509Certificate(answer.body.crt!), [new X509Certificate(OS_CA)], { at: h.clock.now().toJSDate(), purpose: 'clientAuth' });
    expect(asClient.ok).to.equal(false);
    expect(logs.at(-1)?.fields?.strippedOrganizations).to.equal('os:admin');
  });

  describe('refusals (each with its message, and nothing issued)', () => {
    const good = () => createCsr(P256, { commonName: 'talos-node' }, { ipAddresses: ['10.5.0.3'] });
    const tampered = () => {
      const der = Buffer.from(decodePem(good()).der);
      der[der.length - 5] ^= 0x01; // inside the signature value
      return encodePem('CERTIFICATE REQUEST', der);
    };
    const cases: { title: string; body: () => string; auth?: string | null; status: number; error: RegExp }[] = [
      { title: 'no Authorization header: missing token', body: () => csrBody(good()), auth: null, status: 401, error: /^missing token: send machine.token or a join token/ },
      { title: 'a wrong token: invalid token', body: () => csrBody(good()), auth: 'Bearer abcdef.0123456789abcdef', status: 401, error: /^invalid token$/ },
      { title: 'a token of another length: invalid token', body: () => csrBody(good()), auth: `Bearer ${TOKEN}x`, status: 401, error: /^invalid token$/ },
      { title: 'no PEM block: failed to decode CSR', body: () => csrBody('hello'), status: 400, error: /^failed to decode CSR$/ },
      {
        title: 'a PEM block that is not a CSR structure: failed to parse CSR: ...',
        body: () => csrBody(encodePem('CERTIFICATE REQUEST', Buffer.from('3003020100', 'hex'))),
        status: 400,
        error: /^failed to parse CSR: .+/,
      },
      { title: 'a tampered CSR: failed verifying CSR signature', body: () => csrBody(tampered()), status: 400, error: /^failed verifying CSR signature$/ },
      { title: 'a CSR asking for CA:TRUE', body: () => csrBody(opensslCsr('/CN=evil', 'basicConstraints=critical,CA:TRUE')), status: 400, error: /CA certificate .*server certificates only/ },
      { title: 'a CSR asking for clientAuth', body: () => csrBody(opensslCsr('/CN=evil', 'extendedKeyUsage=clientAuth')), status: 400, error: /extended key usage clientAuth.*serverAuth certificates only/ },
      { title: 'a CSR asking for keyCertSign', body: () => csrBody(opensslCsr('/CN=evil', 'keyUsage=critical,digitalSignature,keyCertSign')), status: 400, error: /key usage keyCertSign/ },
      {
        title: 'a CSR with an RSA-512 key (Go refuses RSA keys that small)',
        body: () => csrBody(opensslCsrFor(keyPairOf(generateRawKeyPair('rsa', { modulusLength: 512 }).privateKey), '/CN=weak')),
        status: 400,
        error: /^CSR key is RSA-512; trustd signs RSA keys of 2048 bits or more: make the key with 2048 bits or more/,
      },
      { title: 'a CSR with an unknown extension marked critical', body: () => csrBody(opensslCsr('/CN=evil', '1.2.3.4=critical,ASN1:UTF8String:x')), status: 400, error: /^CSR requests extension 1\.2\.3\.4 marked critical, which trustd does not understand .*: drop it or mark it non-critical$/ },
      { title: 'a CSR asking for a URI SAN', body: () => csrBody(opensslCsr('/CN=evil', 'subjectAltName=IP:10.5.0.3,URI:spiffe://cluster/node')), status: 400, error: /^CSR requests subject alternative name URI:spiffe:\/\/cluster\/node; trustd signs DNS names and IP addresses only: drop it$/ },
      { title: 'a CSR asking for an email SAN', body: () => csrBody(opensslCsr('/CN=evil', 'subjectAltName=DNS:worker-1,email:ops@example.com')), status: 400, error: /^CSR requests subject alternative name email:ops@example\.com; trustd signs/ },
      { title: 'a CSR asking for anyExtendedKeyUsage', body: () => csrBody(opensslCsr('/CN=evil', 'extendedKeyUsage=serverAuth,anyExtendedKeyUsage')), status: 400, error: /^CSR requests extended key usage anyExtendedKeyUsage; trustd signs serverAuth certificates only: drop them$/ },
      { title: 'a body that is not JSON', body: () => 'csr=please', status: 400, error: /^request body is not valid JSON: .*: expected JSON \{"csr"/ },
      { title: 'a JSON body that is null', body: () => 'null', status: 400, error: /^request body is not a JSON object: got null: expected JSON \{"csr"/ },
      { title: 'a JSON body with a __proto__ key', body: () => `{"__proto__": {"csr": ${JSON.stringify(good())}}}`, status: 400, error: /^request body has a "__proto__" key, which no call accepts/ },
      { title: 'a body over 64 KiB', body: () => csrBody('x'.repeat(70_000)), status: 413, error: /^request body larger than 65536 bytes/ },
      { title: 'a JSON body without csr', body: () => '{"crt": "x"}', status: 400, error: /"csr" is required/ },
    ];
    for (const c of cases) {
      it(`refuses ${c.title}`, async () => {
        const before = signedCount();
        const revision = await h.node.state.revision();
        const answer = await post(trustd.port, c.body(), c.auth === undefined ? `Bearer ${TOKEN}` : c.auth);
        expect(answer.status).to.equal(c.status);
        expect(answer.body.error).to.match(c.error);
        expect(answer.body.crt).to.equal(undefined);
        expect(signedCount()).to.equal(before);
        expect(await h.node.state.revision()).to.equal(revision);
      });
    }

    it('never logs the token, even when it is wrong', () => {
      const text = JSON.stringify(logs);
      expect(text).to.not.include(TOKEN);
      expect(text).to.not.include('abcdef.0123456789abcdef');
    });
  });

  it('limits each source address with a token bucket: 429 once the burst is spent, served again after the refill', async () => {
    const limited = await startTrustd({ state: h.node.state, host: '127.0.0.1', port: 0, clock: h.clock, rateLimit: { perSecond: 1, burst: 2 } });
    try {
      const body = csrBody(createCsr(P256, { commonName: 'talos-node' }, { ipAddresses: ['10.5.0.3'] }));
      expect((await post(limited.port, body)).status).to.equal(200);
      // A bad token spends a token too: guessing is limited as much as signing.
      expect((await post(limited.port, body, 'Bearer nope')).status).to.equal(401);
      const refused = await post(limited.port, body);
      expect(refused.status).to.equal(429);
      expect(refused.body.error).to.match(/^rate limit exceeded for 127\.0\.0\.1: retry in 1s$/);
      expect(refused.headers['retry-after']).to.equal('1');
      expect(refused.body.crt).to.equal(undefined);
      await h.clock.advance({ seconds: 1 });
      expect((await post(limited.port, body)).status).to.equal(200);
    } finally {
      await limited.close();
    }
  });

  it('serves nothing on a worker: it holds no trustd certificate (the handshake fails) and no OS CA key', async () => {
    const worker = await NodeHarness.start({ bundle, start: h.clock.now(), type: 'worker', addresses: ['10.5.0.3'], hostname: 'worker-1' });
    const onWorker = await startTrustd({ state: worker.node.state, host: '127.0.0.1', port: 0, clock: worker.clock });
    try {
      // A worker has no trustd certificate either: the TLS handshake itself fails, and nothing is signed.
      const refused = await post(onWorker.port, csrBody(createCsr(P256, { commonName: 'talos-node' }, { ipAddresses: ['10.5.0.3'] }))).then(
        () => 'answered',
        (err: Error) => err.message,
      );
      expect(refused).to.not.equal('answered');
    } finally {
      await onWorker.close();
      await worker.destroy();
    }
  });

  it('works with curl: a certificate on success, {"error": ...} with the HTTP status on refusal', async () => {
    const csr = tempFile(createCsr(P256, { commonName: 'talos-node' }, { dnsNames: ['worker-1'] }), '.csr');
    const body = tempFile(JSON.stringify({ csr: readFileSync(csr, 'utf8') }), '.json');
    const ca = tempFile(OS_CA);
    const url = `https://127.0.0.1:${trustd.port}/v1/certificate`;
    // curl runs beside this process's event loop (trustd answers from it), so never spawnSync here.
    const ok = await run('curl', ['-sS', '--cacert', ca, '-H', `Authorization: Bearer ${TOKEN}`, '-H', 'Content-Type: application/json', '--data-binary', `@${body}`, url]);
    expect(ok.code, ok.stderr).to.equal(0);
    const crt = (JSON.parse(ok.stdout) as { crt: string }).crt;
    expect(verifyStrict(OS_CA, crt, 'sslserver').ok).to.equal(true);
    const bad = await run('curl', ['-sS', '-w', '\n%{http_code}', '--cacert', ca, '-H', 'Authorization: Bearer wrong', '--data-binary', `@${body}`, url]);
    expect(bad.stdout).to.equal('{"error":"invalid token"}\n401');
  });

  it('serves a re-issued certificate to new connections without a restart', async () => {
    const csr = csrBody(createCsr(P256, { commonName: 'talos-node' }, { ipAddresses: ['10.5.0.3'] }));
    const before = (await post(trustd.port, csr)).peer;
    expect(before.subjectAltName).to.not.include('trustd.example.test');
    const pointer = { namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID };
    const mc = await h.node.state.get<MachineConfigSpec>(pointer);
    const config = parseMachineConfig(mc.spec.yaml);
    config.certSANs = [...config.certSANs, 'trustd.example.test'];
    await h.node.state.update<MachineConfigSpec>({ ...mc, spec: { yaml: config.toYaml() } });
    await h.settle();
    const after = (await post(trustd.port, csr)).peer;
    expect(after.serialNumber).to.not.equal(before.serialNumber);
    expect(after.subjectAltName).to.include('DNS:trustd.example.test');
  });
});
