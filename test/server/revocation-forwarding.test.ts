import { expect } from 'chai';
import type { IssuedCertificatesSpec } from '../../src/resources/index.js';
import { ApidHarness } from './apid-harness.js';
import type { Credential } from './apid-harness.js';

describe('revocation of a node\'s apid certificate: a peer forwarding to it refuses it', function () {
  this.timeout(30_000);
  let a: ApidHarness;
  let b: ApidHarness;
  let admin: Credential;

  before(async () => {
    b = await ApidHarness.start({ hostname: 'node-b' });
    a = await ApidHarness.start({ hostname: 'node-a', apid: { forward: { members: [b.address] } } });
    admin = await a.role('os:admin');
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  it('refuses to forward a call to a node that presents a revoked apid certificate (502 naming the revocation), and forwards again after --undo', async () => {
    const forwarded = () => a.request(admin, 'GET', '/v1/version', undefined, { 'trustplane-node': b.address });
    expect((await forwarded()).status).to.equal(200);
    const bServer = (await b.node.node.state.get<IssuedCertificatesSpec>({ namespace: 'secrets', type: 'ApiCertificates', id: 'api' })).spec.certificates.server.crt;
    expect((await a.request(admin, 'POST', '/v1/revocations', { cert: bServer, reason: 'node compromised' })).status).to.equal(200);
    // No restart: A's kept-alive connection to B from the first call is not reused once the revocations change.
    const refused = await forwarded();
    expect(refused.status).to.equal(502);
    expect(refused.json.error).to.match(/^forwarding to node ".*": node ".*" presented a revoked apid certificate: certificate revoked \(serial [0-9a-f]+, .* UTC: "node compromised"\); lift it with trustctl revoke --undo/);
    expect((await a.request(admin, 'POST', '/v1/revocations/lift', { cert: bServer })).status).to.equal(200);
    expect((await forwarded()).status).to.equal(200);
  });
});
