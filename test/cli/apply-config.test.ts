import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createCA, encodePrivateKeyPem } from '../../src/pki/index.js';
import { parseMachineConfig } from '../../src/config/index.js';
import type { MachineConfig } from '../../src/config/index.js';
import { NodeSandbox } from './node-sandbox.js';

/** Every secret a config holds, as the file holds it and decoded. */
function secretsOf(config: MachineConfig): string[] {
  const keys = [config.osCA.key, config.kubernetesCA?.key, config.aggregatorCA?.key, config.etcdCA?.key, config.serviceAccountKey];
  const pems = keys.filter((k): k is string => !!k);
  const encoded = pems.map((p) => Buffer.from(p).toString('base64'));
  const keyBodies = pems.map((p) => p.split('\n')[1]); // first base64 line inside the PEM armour
  return [...pems, ...encoded, ...keyBodies, config.token, config.bootstrapToken, config.clusterSecret, config.secretboxEncryptionSecret];
}

describe('trustctl apply-config', function () {
  this.timeout(60_000);
  let box: NodeSandbox;
  beforeEach(async () => (box = await NodeSandbox.create()));
  afterEach(() => box.remove());

  const apply = (file: string, ...extra: string[]) => box.run(['apply-config', '-f', file, '--state', box.state, ...extra]);
  const storedConfig = async () => (await box.getJson<{ yaml: string }>('mc'))[0];

  it("stores the config as the user's MachineConfig, and skips a config that only differs in comments", async () => {
    const r = await apply(box.config);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('Applied configuration: MachineConfigs config/v1alpha1 is now at version 1.\n');
    const stored = await storedConfig();
    expect(stored.metadata).to.include({ owner: '', version: 1, namespace: 'config', id: 'v1alpha1' });
    expect(stored.spec.yaml).to.equal(readFileSync(box.config, 'utf8'));

    writeFileSync(box.path('commented.yaml'), `# the same config, annotated\n${readFileSync(box.config, 'utf8')}`);
    for (const file of [box.config, box.path('commented.yaml')]) {
      const again = await apply(file);
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stdout).to.equal('Apply was skipped: no changes detected.\n');
    }
    expect((await storedConfig()).metadata.version).to.equal(1);

    const changed = box.writeConfig('sans.yaml', (c) => (c.certSANs = ['api.example.com']));
    expect((await apply(changed)).stdout).to.equal('Applied configuration: MachineConfigs config/v1alpha1 is now at version 2.\n');
  });

  it('--dry-run prints a diff with every secret masked and changes nothing', async () => {
    const served = await box.serveOnce('--config', box.config);
    expect(served.code, served.stderr).to.equal(0);
    const versions = async () => [(await storedConfig()).metadata.version, ...[...(await box.certificateStatuses()).values()].map((s) => s.metadata.version)];
    const before = await versions();
    const newCA = await createCA('os');
    const changed = box.writeConfig('rotated.yaml', (c) => {
      c.certSANs = ['api.example.com'];
      c.osCA = { crt: newCA.certPem, key: encodePrivateKeyPem(newCA.key) };
      c.set(['cluster', 'secret'], Buffer.alloc(32, 7).toString('base64'));
    });

    const r = await apply(changed, '--dry-run');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^Dry run summary:\n/);
    expect(r.stdout).to.contain('--- stored MachineConfigs config/v1alpha1 version 1\n');
    expect(r.stdout).to.contain(`+++ ${changed}\n`);
    expect(r.stdout).to.contain('\n-    certSANs: []\n');
    expect(r.stdout).to.contain('\n+    certSANs:\n+        - api.example.com\n');
    expect(r.stdout).to.match(/\n@@ -\d+,\d+ \+\d+,\d+ @@\n/);
    expect(r.stdout).to.match(/\n\+ {8}key: <redacted, changed>\n/);
    expect(r.stdout).to.match(/\n\+ {4}secret: <redacted, changed>\n/);
    expect(r.stdout).to.match(/\n {5}token: <redacted>\n/); // unchanged secrets in context stay masked
    expect(r.stdout).to.match(/\n\+ {8}crt: <certificate O=talos, not after \d{4}-\d\d-\d\d, SHA-256 [0-9A-F:]+\.\.\.>\n/);
    expect(r.stdout).not.to.match(/PRIVATE KEY|LS0tLS1CRUdJTi/);
    for (const secret of [...secretsOf(box.machineConfig()), ...secretsOf(parseMachineConfig(readFileSync(changed, 'utf8')))]) {
      expect(r.stdout).not.to.contain(secret);
    }
    expect(await versions()).to.deep.equal(before);
    expect((await storedConfig()).spec.yaml).to.equal(readFileSync(box.config, 'utf8'));
  });

  it('--dry-run with nothing to change says the apply was skipped', async () => {
    expect((await apply(box.config)).code).to.equal(0);
    const r = await apply(box.config, '--dry-run');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('Apply was skipped: no changes detected.\n');
  });

  it('--dry-run on a directory without a store diffs against nothing and creates nothing', async () => {
    const r = await apply(box.config, '--dry-run');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('--- stored (none)\n');
    expect(r.stdout).to.contain('+version: v1alpha1\n');
    expect(r.stdout).not.to.match(/PRIVATE KEY|LS0tLS1CRUdJTi/);
    expect(existsSync(box.state)).to.equal(false);
  });

  it('refuses a bad config naming every bad field, and leaves the store untouched', async () => {
    expect((await apply(box.config)).code).to.equal(0);
    const before = await storedConfig();
    const files = box.files().filter((f) => f.startsWith('state/')).sort();
    const bad = box.writeConfig('bad.yaml', (c) => {
      c.certSANs = ['10.0.0.300'];
      c.set(['machine', 'token'], 'not-a-token');
    });
    const r = await apply(bad);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain(`machine config "${bad}" has 2 problems; fix it and try again (nothing was applied):\n`);
    expect(r.stderr).to.contain('\t* machine.token: expected a token like abcdef.0123456789abcdef');
    expect(r.stderr).to.contain('\t* machine.certSANs[0]: expected an IP address or DNS name, got "10.0.0.300"');
    expect(r.stdout).to.equal('');
    const after = await storedConfig();
    expect(after.metadata).to.deep.equal(before.metadata);
    expect(after.spec.yaml).to.equal(before.spec.yaml);
    expect(box.files().filter((f) => f.startsWith('state/')).sort()).to.deep.equal(files);
  });

  it('names a missing file and how to make one', async () => {
    const r = await apply(box.path('missing.yaml'));
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain(`machine config "${box.path('missing.yaml')}" does not exist; make one with: trustctl gen config`);
    expect(existsSync(box.state)).to.equal(false);
  });

  it('refuses YAML that is not a machine config, naming the file', async () => {
    writeFileSync(box.path('other.yaml'), 'kind: Something\nversion: v2\n');
    const r = await apply(box.path('other.yaml'));
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain(`machine config "${box.path('other.yaml')}": no v1alpha1 document found`);
    expect(existsSync(box.state)).to.equal(false);
  });
});
