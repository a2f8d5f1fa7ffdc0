import { expect } from 'chai';
import { createCA, encodePrivateKeyPem } from '../../src/pki/index.js';
import { CARotationSecrets, CARotations } from '../../src/resources/index.js';
import { ApidHarness } from './apid-harness.js';
import type { Credential } from './apid-harness.js';

describe('POST /v1/carotations (starting a CA rotation over apid)', function () {
  this.timeout(30_000);
  let h: ApidHarness;
  let admin: Credential;
  let newCA: { crt: string; key: string };
  const body = (over: Record<string, unknown> = {}) => ({ ca: 'os', newCA, controlPlanes: ['10.5.0.2:50000'], workers: ['10.5.0.3:50000'], ...over });
  const stored = async () => [
    ...(await h.node.node.state.list({ namespace: CARotations.namespace, type: CARotations.type })),
    ...(await h.node.node.state.list({ namespace: CARotationSecrets.namespace, type: CARotationSecrets.type })),
  ];

  before(async () => {
    h = await ApidHarness.start();
    admin = await h.role('os:admin');
    const ca = await createCA('os', { algorithm: 'ed25519' });
    newCA = { crt: ca.certPem, key: encodePrivateKeyPem(ca.key) };
  });
  after(async () => h?.close());

  it('is refused to a reader with `not authorized`, and writes nothing', async () => {
    const answer = await h.request(await h.role('os:reader'), 'POST', '/v1/carotations', body());
    expect(answer.status).to.equal(403);
    expect(answer.json.error).to.equal('not authorized');
    expect(await stored()).to.deep.equal([]);
  });

  it('refuses bad input naming the field, and writes nothing', async () => {
    const other = await createCA('os', { algorithm: 'ed25519' });
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{ ca: 'trustd' }, 400, /^ca: expected one of os, kubernetes, etcd, aggregator, got "trustd"$/],
      [{ controlPlanes: [] }, 400, /^controlPlanes: expected at least one control plane address/],
      [{ workers: ['10.5.0.3', '10.5.0.3'] }, 400, /^workers: 10\.5\.0\.3 is listed twice$/],
      [{ newCA: { crt: newCA.crt, key: encodePrivateKeyPem(other.key) } }, 400, /^newCA: CA key: does not match/],
      [{ newCA: { crt: h.bundle.certs.os.crt, key: h.bundle.certs.os.key } }, 400, /^newCA: is the CA in use already; generate a new one$/],
    ];
    for (const [over, status, message] of cases) {
      const answer = await h.request(admin, 'POST', '/v1/carotations', body(over));
      expect(answer.status, JSON.stringify(over)).to.equal(status);
      expect(answer.json.error).to.match(message);
    }
    expect(await stored()).to.deep.equal([]);
  });

  it('refuses a node address that cannot be dialled, naming the list and the item, and writes nothing (fuzz finding: 10.5.0.2:99999 was stored)', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ controlPlanes: ['10.5.0.2:99999'] }, 'controlPlanes[0]: node address "10.5.0.2:99999": port must be 1-65535, got "99999"'],
      [{ workers: ['10.5.0.3:50000', ':50000'] }, 'workers[1]: node address ":50000": expected host[:port], e.g. 10.5.0.2 or 10.5.0.2:50000'],
      [{ workers: ['[fd00::1]:0'] }, 'workers[0]: node address "[fd00::1]:0": port must be 1-65535, got "0"'],
    ];
    for (const [over, message] of cases) {
      const answer = await h.request(admin, 'POST', '/v1/carotations', body(over));
      expect(answer.status, JSON.stringify(over)).to.equal(400);
      expect(answer.json.error).to.equal(message);
    }
    expect(await stored()).to.deep.equal([]);
  });

  it('creates the rotation in phase Staged with the nodes in order, keeps the keys out of it, and refuses a second one', async () => {
    const answer = await h.request(admin, 'POST', '/v1/carotations', body());
    expect(answer.status, answer.body).to.equal(200);
    expect(answer.body).to.not.include('PRIVATE KEY');
    const spec = (answer.json as unknown as { spec: { phase: string; nodes: unknown[] } }).spec;
    expect(spec.phase).to.equal('Staged');
    expect(spec.nodes).to.deep.equal([
      { address: '10.5.0.2:50000', role: 'controlplane', phase: 'Staged' },
      { address: '10.5.0.3:50000', role: 'worker', phase: 'Staged' },
    ]);
    const secrets = await h.node.node.state.get<{ newCA: { key: string } }>({ namespace: CARotationSecrets.namespace, type: CARotationSecrets.type, id: 'os' });
    expect(secrets.spec.newCA.key).to.equal(newCA.key);
    // a reader sees the rotation (not sensitive) but not its secrets
    const reader = await h.role('os:reader');
    expect((await h.request(reader, 'GET', '/v1/resources/CARotations/os')).status).to.equal(200);
    expect((await h.request(reader, 'GET', '/v1/resources/CARotationSecrets/os')).status).to.equal(403);
    const again = await h.request(admin, 'POST', '/v1/carotations', body());
    expect(again.status).to.equal(409);
    expect(again.json.error).to.match(/^a rotation of the os CA is in progress \(phase Staged\)/);
  });

  it("starts an aggregator rotation from upstream's aggregator CA, whose subject is empty", async () => {
    const ca = await createCA('aggregator', { algorithm: 'ecdsa' });
    const answer = await h.request(admin, 'POST', '/v1/carotations', body({ ca: 'aggregator', newCA: { crt: ca.certPem, key: encodePrivateKeyPem(ca.key) }, workers: [] }));
    expect(answer.status, answer.body).to.equal(200);
    const spec = (answer.json as unknown as { spec: { oldCA: { subject: string }; newCA: { subject: string } } }).spec;
    expect(spec.oldCA.subject).to.equal('');
    expect(spec.newCA.subject).to.equal('CN=front-proxy');
  });

  it('keeps the etcd members an etcd rotation waits for (port 2379 by default), and refuses them on another rotation or malformed, writing nothing', async () => {
    const ca = await createCA('etcd', { algorithm: 'ecdsa' });
    const etcd = (over: Record<string, unknown>) => body({ ca: 'etcd', newCA: { crt: ca.certPem, key: encodePrivateKeyPem(ca.key) }, workers: [], ...over });
    const rotationOf = (id: string) => h.node.node.state.find({ namespace: CARotations.namespace, type: CARotations.type, id });
    const cases: [Record<string, unknown>, string][] = [
      [body({ ca: 'kubernetes', etcdEndpoints: ['10.5.0.2:2379'] }), 'etcdEndpoints: only an etcd rotation waits for etcd members, this one rotates the kubernetes CA; leave it out'],
      [etcd({ etcdEndpoints: '10.5.0.2:2379' }), 'etcdEndpoints: expected a list of node addresses (host:port)'],
      [etcd({ etcdEndpoints: ['10.5.0.2:2379', '10.5.0.3:70000'] }), 'etcdEndpoints[1]: node address "10.5.0.3:70000": port must be 1-65535, got "70000"'],
      [etcd({ etcdEndpoints: ['10.5.0.2', '10.5.0.2:2379'] }), 'etcdEndpoints: 10.5.0.2:2379 is listed twice'],
      [etcd({ etcdEndpoints: ['10.5.0.2', ' '] }), 'etcdEndpoints: expected a list of node addresses (host:port)'],
      [etcd({ etcdEndpoints: ['10.5.0.2', { toString: '10.5.0.3' }] }), 'etcdEndpoints: expected a list of node addresses (host:port)'],
      // 100,000 members with the repeat at the very end, within the 4 MiB body: found in one pass (a pairwise search
      // would take minutes on this route)
      [etcd({ etcdEndpoints: [...Array.from({ length: 100_000 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`), '10.0.0.0:2379'] }), 'etcdEndpoints: 10.0.0.0:2379 is listed twice'],
    ];
    for (const [request, message] of cases) {
      const answer = await h.request(admin, 'POST', '/v1/carotations', request);
      expect(answer.status, JSON.stringify(request.etcdEndpoints).slice(0, 200)).to.equal(400);
      expect(answer.json.error).to.equal(message);
    }
    expect(await rotationOf('kubernetes')).to.equal(undefined);
    expect(await rotationOf('etcd')).to.equal(undefined);
    const answer = await h.request(admin, 'POST', '/v1/carotations', etcd({ etcdEndpoints: ['10.5.0.2', '[fd00::2]:12379'] }));
    expect(answer.status, answer.body).to.equal(200);
    expect((answer.json as unknown as { spec: { etcdEndpoints: string[] } }).spec.etcdEndpoints).to.deep.equal(['10.5.0.2:2379', '[fd00::2]:12379']);
  });
});
