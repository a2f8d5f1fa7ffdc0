import { expect } from 'chai';
import type { CheckReport } from '../../src/server/check/index.js';
import { apidWithAdmin } from './apid-harness.js';
import type { ApidHarness, Credential } from './apid-harness.js';

describe('apid: POST /v1/check runs the check on the node (os:admin)', function () {
  this.timeout(60_000);
  let h: ApidHarness;
  let admin: Credential;

  apidWithAdmin((started, cred) => {
    h = started;
    admin = cred;
  });

  /** Every resource's version in the node's live store. */
  async function versions(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const def of h.node.node.registry.all()) {
      for (const r of await h.node.node.state.list({ namespace: def.namespace, type: def.type })) out[`${def.type}/${r.metadata.id}`] = r.metadata.version;
    }
    return out;
  }

  it('answers the report: clean for 5 years, and the fixture CAs ending in May 2033 over 10, with nothing written', async () => {
    const before = await versions();
    const revision = await h.node.node.state.revision();
    const five = await h.request(admin, 'POST', '/v1/check', { years: 5 });
    expect(five.status, five.body).to.equal(200);
    const clean = five.json as unknown as CheckReport;
    expect(clean.findings).to.deep.equal([]);
    expect(clean.from).to.equal(h.node.clock.now().toUTC().toISO());
    expect(clean.certificates.map((c) => c.id)).to.include.members(['api-server', 'k8s-kube-apiserver', 'etcd-peer', 'ca-os']);
    const ten = (await h.request(admin, 'POST', '/v1/check', { years: 10 })).json as unknown as CheckReport;
    expect(ten.findings.map((f) => `${f.code} ${f.subject} ${f.at} ${f.fix}`)).to.deep.equal([
      'CAExpires ca-aggregator 2033-05-22T12:14:42.000Z trustctl rotate-ca --aggregator',
      'CAExpires ca-etcd 2033-05-22T12:14:42.000Z trustctl rotate-ca --etcd',
      'CAExpires ca-kubernetes 2033-05-22T12:14:42.000Z trustctl rotate-ca --kubernetes',
      'CAExpires ca-os 2033-05-22T12:14:42.000Z trustctl rotate-ca --talos',
    ]);
    expect(await versions()).to.deep.equal(before);
    expect(await h.node.node.state.revision()).to.equal(revision);
  });

  it('refuses readers and operators (403) and a bad years (400 naming the field), running nothing', async () => {
    for (const role of ['os:reader', 'os:operator']) {
      const r = await h.request(await h.role(role), 'POST', '/v1/check', { years: 1 });
      expect(r.status, role).to.equal(403);
    }
    for (const years of [0, 101, 2.5, '10']) {
      const r = await h.request(admin, 'POST', '/v1/check', { years });
      expect(r.status, String(years)).to.equal(400);
      expect(r.json.error).to.match(/^years: expected a whole number of years from 1 to 100, got /);
    }
  });
});
