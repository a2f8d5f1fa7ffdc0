import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { caFromPem, createCA, crossSignCA, issueCertificateAndKey } from '../../src/pki/index.js';
import { EtcdRootSecrets, ExtraAcceptedCAs, KubernetesRootSecrets, SecurityStatuses } from '../../src/resources/index.js';
import type { EtcdRootSecretsSpec, ExtraAcceptedCAsSpec, KubernetesRootSecretsSpec, SecurityStatusSpec } from '../../src/resources/index.js';
import { ApidHarness, apidWithAdmin } from './apid-harness.js';
import type { Credential } from './apid-harness.js';

describe('PUT /v1/extraacceptedcas/:ca (CAs a control plane trusts for etcd or the aggregator besides its config)', function () {
  this.timeout(30_000);
  let h: ApidHarness;
  let admin: Credential;
  let extraCA: string;
  let leaf: string;
  const stored = () => h.node.node.state.list({ namespace: ExtraAcceptedCAs.namespace, type: ExtraAcceptedCAs.type });
  const etcdAccepted = async () => (await h.node.node.state.get<EtcdRootSecretsSpec>({ namespace: 'secrets', type: EtcdRootSecrets.type, id: 'etcd' })).spec.acceptedCAs.map((p) => p.trim());
  const body = (over: Record<string, unknown> = {}) => ({ crts: [extraCA], reason: 'rotation of the etcd CA', ...over });

  before(async () => {
    h = await ApidHarness.start();
    admin = await h.role('os:admin');
    const ca = await createCA('etcd', { algorithm: 'ecdsa' });
    extraCA = ca.certPem;
    leaf = (await issueCertificateAndKey(ca, 'etcd-peer', { commonName: 'cp-1', ipAddresses: ['127.0.0.1'] })).certPem;
  });
  after(async () => h?.close());

  it('is refused to an operator with `not authorized`, and writes nothing', async () => {
    const answer = await h.request(await h.role('os:operator'), 'PUT', '/v1/extraacceptedcas/etcd', body());
    expect(answer.status).to.equal(403);
    expect(answer.json.error).to.equal('not authorized');
    expect(await stored()).to.deep.equal([]);
  });

  it('refuses bad input naming the field and the fix, and writes nothing', async () => {
    const cases: [string, Record<string, unknown>, number, RegExp][] = [
      ['os', body(), 404, /^no extra accepted CAs for "os": only etcd and aggregator \(the Talos API and Kubernetes CAs have machine\.acceptedCAs and cluster\.acceptedCAs\)$/],
      ['etcd', body({ crts: extraCA }), 400, /^crts: expected a list of PEM CA certificates/],
      ['etcd', body({ reason: '' }), 400, /^reason: expected a few words/],
      ['etcd', body({ crts: ['not a certificate'] }), 400, /^ExtraAcceptedCAs spec\.crts\.0: expected a PEM "CERTIFICATE" block$/],
      ['aggregator', body({ crts: [extraCA, leaf] }), 400, /^ExtraAcceptedCAs spec\.crts\.1: is not a CA certificate \(BasicConstraints CA:TRUE is missing\)$/],
    ];
    for (const [id, over, status, message] of cases) {
      const answer = await h.request(admin, 'PUT', `/v1/extraacceptedcas/${id}`, over);
      expect(answer.status, `${id} ${JSON.stringify(over).slice(0, 80)}`).to.equal(status);
      expect(answer.json.error).to.match(message);
    }
    expect(await stored()).to.deep.equal([]);
  });

  it('adds the CAs to what etcd trusts and says so in SecurityStatus; the same list again writes nothing; [] removes them', async () => {
    const own = (await etcdAccepted())[0];
    const set = await h.request(admin, 'PUT', '/v1/extraacceptedcas/etcd', body());
    expect(set.status, set.body).to.equal(200);
    expect(set.json).to.deep.equal({ changed: true, version: 1 });
    await h.node.settle();
    expect(await etcdAccepted()).to.deep.equal([own, extraCA.trim()]);
    const status = (await h.node.node.state.get<SecurityStatusSpec>({ namespace: 'runtime', type: SecurityStatuses.type, id: 'securitystatus' })).spec;
    const finding = status.findings.find((f) => f.code === 'ExtraAcceptedCAs');
    expect(finding).to.deep.include({ severity: 'info', subject: 'ExtraAcceptedCAs/etcd' });
    expect(finding?.message).to.include('rotation of the etcd CA');
    // Certificates only: a reader sees them.
    const read = await h.request(await h.role('os:reader'), 'GET', '/v1/resources/extraacceptedcas/etcd');
    expect(read.status, read.body).to.equal(200);
    expect((read.json.spec as ExtraAcceptedCAsSpec).crts.map((p) => p.trim())).to.deep.equal([extraCA.trim()]);
    // The aggregator's list is its own.
    const k8s = (await h.node.node.state.get<KubernetesRootSecretsSpec>({ namespace: 'secrets', type: KubernetesRootSecrets.type, id: 'k8s' })).spec;
    expect(k8s.aggregatorAcceptedCAs).to.have.length(1);

    const again = await h.request(admin, 'PUT', '/v1/extraacceptedcas/etcd', body({ reason: 'said again' }));
    expect(again.json).to.deep.equal({ changed: false, version: 1 });

    const cleared = await h.request(admin, 'PUT', '/v1/extraacceptedcas/etcd', body({ crts: [] }));
    expect(cleared.json).to.deep.equal({ changed: true });
    await h.node.settle();
    expect(await stored()).to.deep.equal([]);
    expect(await etcdAccepted()).to.deep.equal([own]);
    const after = (await h.node.node.state.get<SecurityStatusSpec>({ namespace: 'runtime', type: SecurityStatuses.type, id: 'securitystatus' })).spec;
    expect(after.findings.map((f) => f.code)).to.not.include('ExtraAcceptedCAs');
    expect((await h.request(admin, 'PUT', '/v1/extraacceptedcas/etcd', body({ crts: [] }))).json).to.deep.equal({ changed: false });
  });
});

describe('PUT /v1/crosssignedcas/os (the cross-signed CA apid sends after its certificate during a Talos API CA rotation)', function () {
  this.timeout(30_000);
  let h: ApidHarness;
  let admin: Credential;
  apidWithAdmin((started, cred) => {
    h = started;
    admin = cred;
  });

  /** A TLS client that trusts only `ca` for the server: undefined when it gets through to apid. */
  const handshake = (ca: string) =>
    new Promise<string | undefined>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: h.apid.port, ca, cert: admin.crt, key: admin.key }, () => {
        socket.end();
        resolve(undefined);
      });
      socket.on('error', (err) => resolve(err.message));
    });

  it('refuses another CA than os, naming the one there is, and a reader', async () => {
    const other = await createCA('os', { algorithm: 'ed25519' });
    const answer = await h.request(admin, 'PUT', '/v1/crosssignedcas/etcd', { crts: [other.certPem], reason: 'x' });
    expect(answer.status).to.equal(404);
    expect(answer.json.error).to.equal('no cross-signed CAs for "etcd": only the Talos API CA (os) is served by apid');
    expect((await h.request(await h.role('os:reader'), 'PUT', '/v1/crosssignedcas/os', { crts: [other.certPem], reason: 'x' })).status).to.equal(403);
  });

  it("sends the node's CA cross-signed by another after its certificate, so a client trusting only that other CA connects; [] stops it", async () => {
    const other = await createCA('os', { algorithm: 'ed25519' });
    const nodeCA = caFromPem(h.bundle.certs.os.crt, h.bundle.certs.os.key);
    expect(await handshake(other.certPem)).to.match(/unable to verify the first certificate/);
    // A cross-signed CA that did not issue the server certificate is left out of what apid sends.
    const unrelated = crossSignCA((await createCA('os', { algorithm: 'ed25519' })).cert, other).certPem;
    const cross = crossSignCA(nodeCA.cert, other).certPem;
    const set = await h.request(admin, 'PUT', '/v1/crosssignedcas/os', { crts: [unrelated, cross], reason: 'rotation of the os CA' });
    expect(set.status, set.body).to.equal(200);
    await h.node.settle();
    expect(await handshake(other.certPem)).to.equal(undefined);
    expect(await handshake(h.caPem)).to.equal(undefined);
    const served = await servedChain(h.apid.port, h.caPem);
    expect(served.map((c) => c.fingerprint256)).to.deep.equal([served[0].fingerprint256, new X509Certificate(cross).fingerprint256]);

    expect((await h.request(admin, 'PUT', '/v1/crosssignedcas/os', { crts: [], reason: 'rotation done' })).json).to.deep.equal({ changed: true });
    await h.node.settle();
    expect(await handshake(other.certPem)).to.match(/unable to verify the first certificate/);
  });
});

/** The certificates apid sends on a new connection, leaf first. */
function servedChain(port: number, ca: string): Promise<X509Certificate[]> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca }, () => {
      const chain: X509Certificate[] = [];
      for (let c = socket.getPeerCertificate(true); c && c.raw; c = c.issuerCertificate) {
        const cert = new X509Certificate(c.raw);
        if (chain.some((x) => x.fingerprint256 === cert.fingerprint256)) break;
        chain.push(cert);
      }
      socket.end();
      resolve(chain);
    });
    socket.on('error', reject);
  });
}
