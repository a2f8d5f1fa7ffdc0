import { expect } from 'chai';
import { ApidHarness, credential } from './apid-harness.js';
import { readWatch } from './apid-stream.js';

interface Listed {
  metadata: { id: string };
  spec: { serial: string; source: { type: string; name: string } };
}

const apiServerSerial = (listed: Listed[]) => listed.find((r) => r.spec.source.type === 'ApiCertificates' && r.spec.source.name === 'server')?.spec.serial;

describe('apid -n forwarding between two nodes', function () {
  let a: ApidHarness;
  let b: ApidHarness;

  before(async () => {
    a = await ApidHarness.start({ hostname: 'node-a' });
    b = await ApidHarness.start({ hostname: 'node-b' });
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  it("answers a call through the endpoint with the target node's resources", async () => {
    const reader = await a.role('os:reader');
    const direct = await b.request(reader, 'GET', '/v1/resources/cs');
    const viaA = await a.request(reader, 'GET', '/v1/resources/cs', undefined, { 'trustplane-node': b.address });
    const ownA = await a.request(reader, 'GET', '/v1/resources/cs');
    expect(viaA.status, viaA.body).to.equal(200);
    const serial = apiServerSerial(JSON.parse(viaA.body) as Listed[]);
    expect(serial).to.be.a('string');
    expect(serial).to.equal(apiServerSerial(JSON.parse(direct.body) as Listed[]));
    expect(serial).to.not.equal(apiServerSerial(JSON.parse(ownA.body) as Listed[]));
  });

  it("authorizes the forwarded call with the caller's roles at the target", async () => {
    const reader = await a.role('os:reader');
    const admin = await a.role('os:admin');
    const refused = await a.request(reader, 'GET', '/v1/resources/osrootsecrets/os', undefined, { 'trustplane-node': b.address });
    expect(refused.status).to.equal(403);
    expect(refused.json).to.deep.equal({ error: 'not authorized' });
    const allowed = await a.request(admin, 'GET', '/v1/resources/osrootsecrets/os', undefined, { 'trustplane-node': b.address });
    expect(allowed.status).to.equal(200);
  });

  it('refuses a caller the endpoint does not accept before forwarding anything', async () => {
    const [none] = await a.matrixCredentials();
    const answer = await a.request(none, 'GET', '/v1/resources/cs', undefined, { 'trustplane-node': b.address });
    expect(answer.status).to.equal(401);
    expect(answer.json).to.deep.equal({ error: "tls: client didn't provide a certificate" });
  });

  it('gives an impersonator certificate only the roles it passes on, and none of its own', async () => {
    const certs = await a.node.node.state.get<{ certificates: Record<string, { crt: string; key: string }> }>({ namespace: 'secrets', type: 'ApiCertificates', id: 'api' });
    const impersonator = credential('impersonator', certs.spec.certificates.impersonator);
    const bare = await b.request(impersonator, 'GET', '/v1/resources/cs');
    expect(bare.status).to.equal(403);
    const asReader = await b.request(impersonator, 'GET', '/v1/resources/cs', undefined, { 'trustplane-roles': 'os:reader' });
    expect(asReader.status).to.equal(200);
    const loop = await b.request(impersonator, 'GET', '/v1/resources/cs', undefined, { 'trustplane-roles': 'os:reader', 'trustplane-node': a.address });
    expect(loop.json).to.deep.equal({ error: 'a forwarded call is not forwarded again' });
  });

  it('streams a forwarded watch', async () => {
    const reader = await a.role('os:reader');
    const watched = await readWatch(a.apid.port, a.caPem, reader, '/v1/watch/cs', (lines) => lines.some((l) => l.type === 'bootstrapped'), { 'trustplane-node': b.address });
    expect(watched.status).to.equal(200);
    const direct = await b.request(reader, 'GET', '/v1/resources/cs');
    const serial = apiServerSerial(JSON.parse(direct.body) as Listed[]);
    expect(watched.lines.some((l) => (l.resource?.spec as { serial?: string } | undefined)?.serial === serial)).to.equal(true);
  });

  it('says which node could not be reached', async () => {
    const reader = await a.role('os:reader');
    const answer = await a.request(reader, 'GET', '/v1/resources/cs', undefined, { 'trustplane-node': '127.0.0.1:1' });
    expect(answer.status).to.equal(502);
    expect(answer.json.error).to.match(/^forwarding to node "127\.0\.0\.1:1": connect ECONNREFUSED/);
  });
});
