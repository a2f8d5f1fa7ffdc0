import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { formatSecretsBundleYaml, parseMachineConfig, parseSecretsBundle, validateSecretsBundle } from '../../src/config/index.js';
import { Sandbox } from '../config/support/run-trustctl.js';
import { fixturePath, readFixture } from '../config/support/talos-fixtures.js';
import { expiredCA, opensslCA } from '../support/hostile-cas.js';

describe('CLI entry points refuse CAs that cannot sign, writing nothing', () => {
  let box: Sandbox;
  beforeEach(() => (box = new Sandbox()));
  afterEach(() => box.remove());

  const bundleWith = (name: 'etcd' | 'k8s' | 'k8sAggregator', pair: { crt: string; key: string }) => {
    const bundle = validateSecretsBundle(parseSecretsBundle(readFileSync(fixturePath('secrets', 'secrets.yaml'), 'utf8')));
    bundle.certs[name] = pair;
    writeFileSync(box.path('secrets.yaml'), formatSecretsBundleYaml(bundle));
    return box.path('secrets.yaml');
  };

  it('gen config refuses a bundle whose etcd CA is CA:FALSE, and one whose Kubernetes CA expired', async () => {
    for (const [name, pair, says] of [
      ['etcd', opensslCA({ basicConstraints: 'critical,CA:FALSE', keyUsage: 'critical,digitalSignature' }), 'certs.etcd is invalid: is not a CA'],
      ['k8s', await expiredCA(new Date()), 'certs.k8s is invalid: expired at'],
    ] as const) {
      const file = bundleWith(name, pair);
      const r = await box.run(['gen', 'config', 'c', 'https://10.5.0.2:6443', '--with-secrets', file, '-o', box.path('out')]);
      expect(r.code, name).to.equal(1);
      expect(r.stderr, name).to.contain(says);
      expect(box.files(), name).to.deep.equal(['secrets.yaml']);
    }
  });

  it('config new refuses a control plane config whose machine.ca lacks keyCertSign', async () => {
    const config = parseMachineConfig(readFixture('machineconfig', 'base-controlplane.yaml'));
    config.setCertAndKey(['machine', 'ca'], opensslCA({ keyUsage: 'critical,digitalSignature' }));
    writeFileSync(box.path('cp.yaml'), config.toYaml());
    const r = await box.run(['config', 'new', '-o', 'x', '--with-secrets', box.path('cp.yaml')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('machine.ca: is a CA whose keyUsage lacks keyCertSign');
    expect(box.files()).to.deep.equal(['cp.yaml']);
  });

  it('apply-config refuses machine.network.hostname ../../etc/passwd before it creates a store', async () => {
    const config = parseMachineConfig(readFixture('machineconfig', 'base-controlplane.yaml'));
    config.set(['machine', 'network', 'hostname'], '../../etc/passwd');
    writeFileSync(box.path('cp.yaml'), config.toYaml());
    const r = await box.run(['apply-config', '-f', box.path('cp.yaml'), '--state', box.path('state')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('machine.network.hostname: expected a host name');
    expect(box.files()).to.deep.equal(['cp.yaml']);
  });
});
