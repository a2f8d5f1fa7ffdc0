import { expect } from 'chai';
import { MachineConfig, encodePemField, parseMachineConfig } from '../../src/config/index.js';
import { expiredCA, opensslCA } from '../support/hostile-cas.js';
import { apidWithAdmin } from './apid-harness.js';
import type { Credential , ApidHarness} from './apid-harness.js';

describe('apid: configs that would break the node are refused, nothing stored', function () {
  let h: ApidHarness;
  let admin: Credential;

  apidWithAdmin((started, cred) => {
    h = started;
    admin = cred;
  }, 'test');

  const stored = async () => {
    const r = await h.request(admin, 'GET', '/v1/resources/mc/v1alpha1');
    return { yaml: (r.json.spec as { yaml: string }).yaml, version: (r.json.metadata as { version: number }).version };
  };

  it('refuses apply-config with a machine.ca that lacks keyCertSign, and one that expired by the node clock', async () => {
    const before = await stored();
    for (const [pair, says] of [
      [opensslCA({ keyUsage: 'critical,digitalSignature' }), /machine\.ca\.crt: is a CA whose keyUsage lacks keyCertSign/],
      [await expiredCA(h.now()), /machine\.ca\.crt: expired at /],
    ] as const) {
      const config = parseMachineConfig(before.yaml);
      config.setCertAndKey(['machine', 'ca'], pair);
      const r = await h.request(admin, 'PUT', '/v1/machineconfig', { yaml: config.toYaml() });
      expect(r.status, r.body).to.equal(400);
      expect(r.json.error).to.match(says).and.to.match(/nothing was applied/);
    }
    expect(await stored()).to.deep.equal(before);
  });

  it('refuses a patch setting machine.network.hostname to a path, or machine.ca to an RSA-1024 CA', async () => {
    const before = await stored();
    const weak = opensslCA({ newkey: 'rsa:1024' });
    for (const [patch, says] of [
      ['machine:\n  network:\n    hostname: ../../etc/passwd\n', /machine\.network\.hostname: expected a host name/],
      [`machine:\n  ca:\n    crt: ${encodePemField(weak.crt)}\n    key: ${encodePemField(weak.key)}\n`, /machine\.ca\.crt: has an RSA key of 1024 bits/],
    ] as const) {
      const r = await h.request(admin, 'PATCH', '/v1/machineconfig', { patches: [patch] });
      expect(r.status, r.body).to.equal(400);
      expect(r.json.error).to.match(says);
    }
    expect(await stored()).to.deep.equal(before);
  });

  it('answers 413 to RFC 6902 copies that double the config, at the copy that crosses the bound, storing nothing', async () => {
    const single = MachineConfig.fromObjects(parseMachineConfig((await stored()).yaml).toJS()[0] as object);
    expect((await h.request(admin, 'PUT', '/v1/machineconfig', { yaml: single.toYaml() })).status).to.equal(200);
    const before = await stored();
    const ops = Array.from({ length: 18 }, (_, i) => ({ op: 'copy', from: '/machine', path: `/machine/c${i}` }));
    const r = await h.request(admin, 'PATCH', '/v1/machineconfig', { patches: [JSON.stringify(ops)] });
    expect(r.status, r.body).to.equal(413);
    const stoppedAt = /^patch: op (\d+) \(copy \/machine\/c\d+\): the patched document would be about \d+ KiB, more than the 1024 KiB allowed/.exec(String(r.json.error));
    expect(stoppedAt, String(r.json.error)).to.not.equal(null);
    // refused as it runs, at the copy that crosses 1 MiB, not after building all 18 doublings
    expect(Number(stoppedAt![1])).to.be.below(18);
    expect(await stored()).to.deep.equal(before);
  });

  it('stores a __proto__ key in a patch as data (no 500), even inside a PKI section, leaving the fields beside it alone', async () => {
    const ca = parseMachineConfig((await stored()).yaml).osCA;
    const r = await h.request(admin, 'PATCH', '/v1/machineconfig', { patches: ['machine:\n  ca:\n    __proto__:\n      crt: 1\n'] });
    expect(r.status, r.body).to.equal(200);
    const after = parseMachineConfig((await stored()).yaml);
    expect(after.osCA).to.deep.equal(ca);
    expect(after.raw(['machine', 'ca', '__proto__'])).to.deep.equal({ crt: 1 });
    const ok = await h.request(admin, 'PATCH', '/v1/machineconfig', { patches: ['machine:\n  __proto__:\n    polluted: 1\n'] });
    expect(ok.status, ok.body).to.equal(200);
    expect((await stored()).yaml).to.match(/__proto__:\n {8}polluted: 1/);
  });
});
