import { expect } from 'chai';
import { createCA, issueCertificateAndKey } from '../../src/pki/index.js';
import { EtcdRootSecrets, ExtraAcceptedCAs, KubernetesRootSecrets, SecurityStatuses } from '../../src/resources/index.js';
import type { EtcdRootSecretsSpec, ExtraAcceptedCAsSpec, KubernetesRootSecretsSpec, SecurityStatusSpec } from '../../src/resources/index.js';
import { ApidHarness } from './apid-harness.js';
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
