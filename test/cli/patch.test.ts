import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { parseMachineConfig } from '../../src/config/index.js';
import { MACHINE_CONFIG_ID, MachineConfigs } from '../../src/resources/index.js';
import type { MachineConfigSpec } from '../../src/resources/index.js';
import type { Resource } from '../../src/runtime/resource.js';
import { openNodeState } from '../../src/server/node.js';
import { NodeSandbox } from './node-sandbox.js';

/** Key material as it could leak into a diff: PEM armour, its base64 (as configs hold keys), or a config secret. */
function expectNoKeyMaterial(text: string, box: NodeSandbox): void {
  expect(text).not.to.match(/-----BEGIN/);
  expect(text).not.to.contain('LS0tLS1CRUdJTi');
  const config = box.machineConfig();
  for (const secret of [config.token, config.bootstrapToken, config.clusterSecret, config.secretboxEncryptionSecret]) {
    expect(secret).not.to.equal('');
    expect(text).not.to.contain(secret);
  }
}

async function stored(box: NodeSandbox): Promise<Resource<MachineConfigSpec>> {
  const { state } = await openNodeState(box.state);
  try {
    return await state.get<MachineConfigSpec>({ namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID });
  } finally {
    await state.close();
  }
}

describe('trustctl patch machineconfig', function () {
  this.timeout(60_000);
  let box: NodeSandbox;
  beforeEach(async () => {
    box = await NodeSandbox.create();
    const r = await box.serveOnce('--config', box.config);
    expect(r.code, r.stderr).to.equal(0);
  });
  afterEach(() => box.remove());

  const writePatch = (name: string, text: string) => {
    writeFileSync(box.path(name), text);
    return `@${box.path(name)}`;
  };

  it('--dry-run prints the masked diff and which certificates would be re-issued, and changes nothing', async () => {
    const before = await stored(box);
    const r = await box.run(['patch', 'mc', '--patch', writePatch('p.yaml', 'machine:\n  certSANs: [10.0.0.5]\n'), '--dry-run', '--state', box.state]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('+        - 10.0.0.5');
    expect(r.stdout).to.contain('Certificate impact:\n  ApiCertificates: SAN +10.0.0.5\n  TrustdCertificates: SAN +10.0.0.5\n');
    expectNoKeyMaterial(r.stdout, box);
    expect((await stored(box)).metadata.version).to.equal(before.metadata.version);
  });

  it("stores the patched config as the user's MachineConfig, and the node then issues apid's certificate for the new names", async () => {
    const before = await stored(box);
    const r = await box.run(['patch', 'machineconfig', '-p', 'machine:\n  certSANs: [10.0.0.5]\n', '-p', writePatch('p2.yaml', 'machine:\n  certSANs: [api.example.com]\n'), '--state', box.state]);
    expect(r.code, r.stderr).to.equal(0);
    const after = await stored(box);
    expect(r.stdout).to.equal(`Patched configuration: MachineConfigs config/v1alpha1 is now at version ${after.metadata.version}.\n`);
    expect(after.metadata.version).to.equal(before.metadata.version + 1);
    expect(after.metadata.owner).to.equal('');
    expect(parseMachineConfig(after.spec.yaml).certSANs).to.deep.equal(['10.0.0.5', 'api.example.com']);

    const settled = await box.serveOnce();
    expect(settled.code, settled.stderr).to.equal(0);
    const statuses = await box.certificateStatuses();
    expect(statuses.get('api-server')?.spec.ipAddresses).to.include('10.0.0.5');
    expect(statuses.get('api-server')?.spec.dnsNames).to.include('api.example.com');
  });

  it('says "Apply was skipped: no changes detected." for a patch that changes nothing', async () => {
    const before = await stored(box);
    const type = parseMachineConfig(before.spec.yaml).type;
    const r = await box.run(['patch', 'mc', '--patch', `machine:\n  type: ${type}\n`, '--state', box.state]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('Apply was skipped: no changes detected.\n');
    expect((await stored(box)).metadata.version).to.equal(before.metadata.version);
  });

  it('refuses a patch with a wrong type, naming the patch line and field, and writes nothing', async () => {
    const before = await stored(box);
    const r = await box.run(['patch', 'mc', '--patch', 'machine:\n  certSANs:\n    - ip: 10.0.0.5\n', '--state', box.state]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal('error: patch line 3: /machine/certSANs/0: expected a string, got a map\n');
    expect((await stored(box)).metadata.version).to.equal(before.metadata.version);
  });

  it('refuses a patched config that fails validation, listing the problem, and writes nothing', async () => {
    const before = await stored(box);
    const r = await box.run(['patch', 'mc', '--patch', writePatch('bad.yaml', 'machine:\n  certSANs: ["10.0.0.300"]\n'), '--state', box.state]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('the patched machine config has a problem');
    expect(r.stderr).to.contain('machine.certSANs[0]');
    expect((await stored(box)).spec.yaml).to.equal(before.spec.yaml);
  });

  it('refuses an RFC 6902 patch on the multi-document config with upstream\'s message', async () => {
    const r = await box.run(['patch', 'mc', '--patch', '[{"op": "add", "path": "/machine/certSANs/-", "value": "10.0.0.5"}]', '--state', box.state]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal('error: JSON6902 patches are not supported for multi-document machine configuration\n');
  });

  it('names a patch file that does not exist', async () => {
    const r = await box.run(['patch', 'mc', '--patch', '@missing.yaml', '--state', box.state]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal('error: patch file "missing.yaml": does not exist; pass --patch @FILE with an existing file, or the patch text inline\n');
  });
});
