import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { request } from 'node:https';
import { DateTime } from 'luxon';
import { caFromPem, createCsr, encodePrivateKeyPkcs8Pem, generateKeyPairSync, issueCertificateAndKey, parsePrivateKeyPem } from '../../src/pki/index.js';
import type { KeyPair } from '../../src/pki/index.js';
import { CertificateStatuses, KubeletCertificates, KubeletResponses, TrustdCertificates } from '../../src/resources/index.js';
import type { CertificateStatusSpec, IssuedCertificatesSpec, KubeletResponseSpec } from '../../src/resources/index.js';
import { ManualClock } from '../../src/runtime/manual-clock.js';
import type { Node } from '../../src/server/node.js';
import { startKubeletCsrClient } from '../../src/server/trustd-client/index.js';
import { startTrustd } from '../../src/server/trustd/index.js';
import { tempFile, verifyStrict, x509Text } from '../pki/openssl.js';
import { Cluster, bundle, find } from './worker-cluster.js';

const OS_CA = bundle.certs.os.crt;
const K8S_CA = bundle.certs.k8s.crt;
const BOOTSTRAP = bundle.secrets.bootstrapToken;
const P256 = generateKeyPairSync('ecdsa');

interface Answer {
  status: number;
  body: { crt?: string; ca?: string; error?: string };
}

interface PostOptions {
  token?: string;
  client?: { crt: string; key: string };
}

function post(port: number, body: object, o: PostOptions = { token: BOOTSTRAP }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (o.token) headers.Authorization = `Bearer ${o.token}`;
    const identity = o.client ? { cert: o.client.crt, key: o.client.key } : {};
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/kubelet-csr', ca: OS_CA, headers, agent: false, ...identity }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'] }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const csr = (commonName: string, organizations: string[], sans: { dnsNames?: string[]; ipAddresses?: string[] } = {}) => createCsr(P256, { commonName, organizations }, sans);

/** A CSR made by openssl with extra -addext options (a CA request, which createCsr cannot make). */
function opensslCsr(key: KeyPair, subject: string, ...addext: string[]): string {
  const r = spawnSync('openssl', ['req', '-new', '-key', tempFile(encodePrivateKeyPkcs8Pem(key)), '-subj', subject, ...addext.flatMap((e) => ['-addext', e])], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

/** trustd's kubelet signings so far (a control plane cp-1, 10.5.0.2, and a worker-1 on 127.0.0.1, where its requests come from). */
const signedKubelets = (cluster: Cluster) => cluster.logs.filter((l) => l.startsWith('trustd signed a kubelet certificate')).length;

const kubeletSet = async (node: Node) => (await find<IssuedCertificatesSpec>(node.state, KubeletCertificates, 'kubelet'))?.spec;
const statusOf = async (node: Node, id: string) => (await find<CertificateStatusSpec>(node.state, CertificateStatuses, id))?.spec;

describe('kubelet certificates (control plane issues its own; a worker gets them through trustd)', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let cp: Node;
  let worker: Node;
  let port: number;

  before(async () => {
    cluster = new Cluster(new ManualClock(DateTime.utc().startOf('second')));
    cp = await cluster.node('controlplane', '10.5.0.2', 'cp-1');
    worker = await cluster.node('worker', '127.0.0.1', 'worker-1');
    await cluster.until(async () => (await find(cp.state, TrustdCertificates, 'trustd')) !== undefined, 'control plane issued its trustd certificate');
    const log = (m: string, f?: Record<string, unknown>) => cluster.logs.push(`${m} ${JSON.stringify(f ?? {})}`);
    cluster.trustd = await startTrustd({ state: cp.state, host: '127.0.0.1', port: 0, clock: cluster.clock, rateLimit: false, logger: log, kubeletValidityHours: 48 });
    port = cluster.trustd.port;
    cluster.client = startKubeletCsrClient({ state: worker.state, endpoints: [`127.0.0.1:${port}`], clock: cluster.clock, random: () => 0.5, logger: log });
  });
  after(async () => cluster.destroy());

  it('issues a control plane its kubelet client (system:node:cp-1 in system:nodes, clientAuth) and serving (cp-1, 10.5.0.2, serverAuth) certificates', async () => {
    const set = (await kubeletSet(cp))!;
    const client = x509Text(set.certificates.client.crt);
    expect(client).to.match(/Subject: O\s*=\s*system:nodes, CN\s*=\s*system:node:cp-1\n/);
    expect(client).to.match(/Extended Key Usage:\s*\n\s*TLS Web Client Authentication\n/);
    expect(client).not.to.include('Subject Alternative Name');
    expect(verifyStrict(K8S_CA, set.certificates.client.crt, 'sslclient').ok).to.equal(true);
    const server = x509Text(set.certificates.server.crt);
    expect(server).to.match(/DNS:cp-1, IP Address:10\.5\.0\.2\n/);
    expect(server).to.match(/Extended Key Usage:\s*\n\s*TLS Web Server Authentication\n/);
    expect(verifyStrict(K8S_CA, set.certificates.server.crt, 'sslserver').ok).to.equal(true);
    for (const id of ['kubelet-client', 'kubelet-server']) expect((await statusOf(cp, id))?.state, id).to.equal('Valid');
  });

  it('gives a worker (no Kubernetes CA key) both through trustd: the client with the bootstrap token, the serving one with the new client certificate', async () => {
    await cluster.until(async () => Object.keys((await kubeletSet(worker))?.certificates ?? {}).length === 2, 'worker kubelet certificates installed');
    const set = (await kubeletSet(worker))!;
    expect(set.pending).to.equal(undefined);
    expect(x509Text(set.certificates.client.crt)).to.match(/Subject: O\s*=\s*system:nodes, CN\s*=\s*system:node:worker-1\n/);
    expect(verifyStrict(K8S_CA, set.certificates.client.crt, 'sslclient').ok).to.equal(true);
    expect(x509Text(set.certificates.server.crt)).to.match(/DNS:worker-1, IP Address:127\.0\.0\.1\n/);
    expect(verifyStrict(K8S_CA, set.certificates.server.crt, 'sslserver').ok).to.equal(true);
    const answers = (await find<KubeletResponseSpec>(worker.state, KubeletResponses, 'kubelet'))!.spec;
    expect([answers.client?.auth, answers.server?.auth]).to.deep.equal(['token', 'certificate']);
    await cluster.until(async () => (await statusOf(worker, 'kubelet-server'))?.state === 'Valid', 'worker kubelet statuses Valid');
    for (const id of ['kubelet-client', 'kubelet-server']) expect((await statusOf(worker, id))?.chainsToAcceptedCA, id).to.equal(true);
  });

  it("gets a worker on another loopback address (127.0.0.12) a serving certificate for it: its requests leave from that address, not the route's 127.0.0.1", async () => {
    const other = await cluster.node('worker', '127.0.0.12', 'worker-2');
    const log = (m: string, f?: Record<string, unknown>) => cluster.logs.push(`${m} ${JSON.stringify(f ?? {})}`);
    const client = startKubeletCsrClient({ state: other.state, endpoints: [`127.0.0.1:${port}`], clock: cluster.clock, random: () => 0.5, logger: log });
    try {
      await cluster.until(async () => {
        await client.settled();
        return (await kubeletSet(other))?.certificates.server !== undefined;
      }, 'worker-2 serving certificate installed');
      const server = (await kubeletSet(other))!.certificates.server;
      expect(x509Text(server.crt)).to.match(/DNS:worker-2, IP Address:127\.0\.0\.12\n/);
      expect(verifyStrict(K8S_CA, server.crt, 'sslserver').ok).to.equal(true);
    } finally {
      await client.close();
    }
  });

  describe('refusals (each names the rule; nothing is signed)', () => {
    const workerClient = async () => {
      const c = (await kubeletSet(worker))!.certificates.client;
      return { crt: c.crt, key: encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(c.key)) };
    };
    const refused = async (body: object, status: number, pattern: RegExp, o?: PostOptions) => {
      const signed = signedKubelets(cluster);
      const answer = await post(port, body, o);
      expect(answer.status, answer.body.error).to.equal(status);
      expect(answer.body.error).to.match(pattern);
      expect(answer.body.crt).to.equal(undefined);
      expect(signedKubelets(cluster)).to.equal(signed);
    };

    it('a client CSR naming another node than the requester', async () => {
      await refused({ kind: 'client', node: 'worker-1', csr: csr('system:node:worker-2', ['system:nodes']) }, 403, /rule subject-common-name: CN must be exactly system:node:worker-1/);
      await refused({ kind: 'client', csr: csr('system:node:cp-1', ['system:nodes']) }, 403, /rule subject-common-name/, { client: await workerClient() });
    });

    it('an Organization besides system:nodes, or none', async () => {
      await refused({ kind: 'client', node: 'worker-1', csr: csr('system:node:worker-1', ['system:nodes', 'system:masters']) }, 403, /rule subject-organization: O must be exactly system:nodes and nothing else, got system:nodes, system:masters/);
      await refused({ kind: 'client', node: 'worker-1', csr: csr('system:node:worker-1', []) }, 403, /rule subject-organization/);
    });

    it('a CA (basicConstraints CA:TRUE)', async () => {
      const ca = opensslCsr(P256, '/O=system:nodes/CN=system:node:worker-1', 'basicConstraints=critical,CA:TRUE');
      await refused({ kind: 'client', node: 'worker-1', csr: ca }, 403, /rule no-ca/);
    });

    it("names on a client CSR, another node's IP or name on a serving CSR", async () => {
      await refused({ kind: 'client', node: 'worker-1', csr: csr('system:node:worker-1', ['system:nodes'], { dnsNames: ['worker-1'] }) }, 403, /rule client-no-names/);
      const cert = { client: await workerClient() };
      await refused({ kind: 'server', csr: csr('system:node:worker-1', ['system:nodes'], { dnsNames: ['worker-1'], ipAddresses: ['127.0.0.1', '10.5.0.2'] }) }, 403, /rule serving-ip-addresses: .*not 10\.5\.0\.2/, cert);
      await refused({ kind: 'server', csr: csr('system:node:worker-1', ['system:nodes'], { dnsNames: ['cp-1'] }) }, 403, /rule serving-dns-names: .*not cp-1/, cert);
    });

    it('a wrong, missing or machine token', async () => {
      const body = { kind: 'client', node: 'worker-1', csr: csr('system:node:worker-1', ['system:nodes']) };
      await refused(body, 401, /^invalid token$/, { token: 'abcdef.0123456789abcdef' });
      await refused(body, 401, /^missing token/, {});
      await refused(body, 401, /^invalid token$/, { token: bundle.trustdInfo.token });
      await refused(body, 401, /takes the cluster bootstrap token \(cluster\.token, in the form abcdef\.0123456789abcdef\)/, { token: 'not-a-bootstrap-token' });
    });

    it('an expired kubelet client certificate, or one from another CA, for renewal', async () => {
      const k8s = caFromPem(bundle.certs.k8s.crt, bundle.certs.k8s.key);
      const old = await issueCertificateAndKey(k8s, 'kubelet', {
        algorithm: 'ecdsa',
        now: cluster.clock.now().minus({ days: 2 }).toJSDate(),
        validityHours: 1,
        commonName: 'system:node:worker-1',
        organizations: ['system:nodes'],
      });
      const body = { kind: 'client', csr: csr('system:node:worker-1', ['system:nodes']) };
      await refused(body, 401, /not accepted: .*expired.*joins again with the bootstrap token/, { client: { crt: old.certPem, key: encodePrivateKeyPkcs8Pem(old.key) } });
      const os = await issueCertificateAndKey(caFromPem(bundle.certs.os.crt, bundle.certs.os.key), 'talos-client', { algorithm: 'ecdsa', now: cluster.clock.now().toJSDate() });
      await refused(body, 401, /not accepted/, { client: { crt: os.certPem, key: encodePrivateKeyPkcs8Pem(os.key) } });
    });
  });
  // last: the clock jumps a day and more ahead (trustd signs 48 h kubelet certificates here), past what the refusal
  // tests' real-time TLS client would accept from trustd
  describe('renewal', () => {
    it('renews the worker client certificate at its renewal time with the current client certificate, not the token', async () => {
      const before = (await find<KubeletResponseSpec>(worker.state, KubeletResponses, 'kubelet'))!.spec.client!;
      await cluster.clock.set(DateTime.fromISO(before.renewAt, { zone: 'utc' }));
      await cluster.until(async () => (await find<KubeletResponseSpec>(worker.state, KubeletResponses, 'kubelet'))!.spec.client!.crt !== before.crt, 'client renewed');
      const after = (await find<KubeletResponseSpec>(worker.state, KubeletResponses, 'kubelet'))!.spec.client!;
      expect(after).to.include({ auth: 'certificate', reason: 'Renewing' });
      expect(after.key).not.to.equal(before.key);
      await cluster.until(async () => (await kubeletSet(worker))?.certificates.client.crt === after.crt, 'renewed client installed');
    });
  });
});
