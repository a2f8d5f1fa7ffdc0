import { expect } from 'chai';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  PatchedConfigInvalid,
  applyPatches,
  encodePemField,
  machineConfigProblems,
  parseMachineConfig,
  parsePatch,
  parseSecretsBundle,
  readKubernetesPki,
  secretsBundleProblems,
} from '../../src/config/index.js';
import type { SecretsBundleDraft } from '../../src/config/index.js';
import { createCA, encodePrivateKeyPem } from '../../src/pki/index.js';
import { hostileCAs, opensslCA } from '../support/hostile-cas.js';
import type { PemPair } from '../support/hostile-cas.js';
import { fixturePath, readFixture } from './support/talos-fixtures.js';

const NOW = new Date();
const controlPlane = () => parseMachineConfig(readFixture('machineconfig', 'base-controlplane.yaml'));
const stabilityDraft = (): SecretsBundleDraft => parseSecretsBundle(readFixture('secrets', 'stability-secrets.yaml'));

const CONFIG_CAS = [
  ['machine', 'ca'],
  ['cluster', 'ca'],
  ['cluster', 'aggregatorCA'],
  ['cluster', 'etcd', 'ca'],
];
const BUNDLE_CAS = ['etcd', 'k8s', 'k8sAggregator', 'os'] as const;

describe('CA validation on the way in', () => {
  let hostile: { name: string; pair: PemPair; says: RegExp }[];
  before(async () => {
    hostile = await hostileCAs(NOW);
  });

  it('refuses each hostile CA in each CA field of a machine config, naming the field and the fix', () => {
    for (const path of CONFIG_CAS) {
      for (const { name, pair, says } of hostile) {
        const config = controlPlane();
        config.setCertAndKey(path, pair);
        const problems = machineConfigProblems(config, { now: NOW });
        const field = path.join('.');
        expect(problems, `${field} ${name}`).to.have.length(1);
        expect(problems[0], `${field} ${name}`).to.match(new RegExp(`^${field.replace(/\./g, '\\.')}\\.(crt|key): `)).and.to.match(says);
      }
    }
  });

  it('refuses each hostile CA in each CA of a secrets bundle (gen config, config new), naming certs.<name>', () => {
    for (const ca of BUNDLE_CAS) {
      for (const { name, pair, says } of hostile) {
        const draft = stabilityDraft();
        draft.certs![ca] = pair;
        const problems = secretsBundleProblems(draft, NOW);
        expect(problems, `${ca} ${name}`).to.have.length(1);
        expect(problems[0], `${ca} ${name}`).to.match(new RegExp(`^certs\\.${ca.toLowerCase()} is invalid: `)).and.to.match(says);
      }
    }
  });

  it('refuses an accepted CA that cannot sign, but keeps an expired one (rotation leaves old CAs there)', () => {
    const config = controlPlane();
    const expired = hostile.find((h) => h.name === 'expired')!.pair.crt;
    config.acceptedCAs = [expired, opensslCA({ basicConstraints: 'critical,CA:FALSE', keyUsage: 'critical,digitalSignature' }).crt];
    expect(machineConfigProblems(config, { now: NOW })).to.deep.equal([
      'machine.acceptedCAs[1].crt: is not a CA (BasicConstraints CA:TRUE is missing); give a CA certificate, not a leaf',
    ]);
  });

  it('judges CA validity only when the caller gives its clock: the store re-validating what it holds does not lock the node out', () => {
    const config = controlPlane();
    config.setCertAndKey(['machine', 'ca'], hostile.find((h) => h.name === 'expired')!.pair);
    expect(machineConfigProblems(config)).to.deep.equal([]);
    expect(machineConfigProblems(config, { now: NOW })).to.have.length(1);
  });

  it('accepts a CA whose notBefore is up to five minutes ahead of the clock (skew), not one an hour ahead', () => {
    const config = controlPlane();
    const valid = opensslCA();
    config.setCertAndKey(['machine', 'ca'], valid);
    expect(machineConfigProblems(config, { now: new Date(Date.now() - 4 * 60_000) })).to.deep.equal([]);
    const early = machineConfigProblems(config, { now: new Date(Date.now() - 3_600_000) });
    expect(early).to.have.length(1);
    expect(early[0]).to.match(/^machine\.ca\.crt: is not valid until .*check the clock/);
  });

  it('accepts a CA that ends in three minutes (the skew allowance applies to its start, not its end)', async () => {
    const config = controlPlane();
    const ending = await createCA('os', { now: new Date(NOW.getTime() - 57 * 60_000), validityHours: 1 });
    config.setCertAndKey(['machine', 'ca'], { crt: ending.certPem, key: encodePrivateKeyPem(ending.key) });
    expect(machineConfigProblems(config, { now: NOW })).to.deep.equal([]);
  });

  it('refuses a machine.network.hostname that is not a host name', () => {
    for (const bad of ['../../etc/passwd', 'a b', '*.example.com', '-lead', 'x'.repeat(64)]) {
      const config = controlPlane();
      config.set(['machine', 'network', 'hostname'], bad);
      expect(machineConfigProblems(config), bad).to.deep.equal([
        `machine.network.hostname: expected a host name such as worker-1 or node1.example.com (letters, digits, hyphens and dots), got ${JSON.stringify(bad)}`,
      ]);
    }
    const config = controlPlane();
    config.set(['machine', 'network', 'hostname'], 'node-1.example.com');
    expect(machineConfigProblems(config)).to.deep.equal([]);
  });

  it('names trustdinfo.token and secrets.bootstraptoken (not machine.token) when a bundle token is malformed', () => {
    const draft = stabilityDraft();
    draft.trustdInfo = { token: 'not-a-token' };
    draft.secrets!.bootstrapToken = 'ALSO.BAD';
    const problems = secretsBundleProblems(draft, NOW);
    expect(problems).to.deep.equal([
      'secrets.bootstraptoken: expected a token like abcdef.0123456789abcdef ([a-z0-9]{6}.[a-z0-9]{16}), got a value of another shape',
      'trustdinfo.token: expected a token like abcdef.0123456789abcdef ([a-z0-9]{6}.[a-z0-9]{16}), got a value of another shape',
    ]);
    expect(problems.join('\n')).to.not.contain('not-a-token');
  });

  it('says which half of a bundle CA is empty instead of only "failed to parse PEM block"', () => {
    const draft = stabilityDraft();
    draft.certs!.os = { crt: draft.certs!.os!.crt, key: '' };
    expect(secretsBundleProblems(draft, NOW)).to.deep.equal([
      "certs.os is invalid: failed to parse PEM block: certs.os.key is empty; put the CA's private key there (base64 of its PEM): a bundle without its CA keys cannot sign",
    ]);
  });

  it('refuses a patch that stores a CA that cannot sign, leaving the config as it was', () => {
    const config = controlPlane();
    const before = config.toYaml();
    const leaf = hostile.find((h) => h.name === 'CA:FALSE')!.pair;
    const patch = parsePatch(`machine:\n  ca:\n    crt: ${encodePemField(leaf.crt)}\n    key: ${encodePemField(leaf.key)}\n`, 'ca.yaml');
    expect(() => applyPatches(config, [patch], { now: NOW }))
      .to.throw(PatchedConfigInvalid)
      .with.property('message')
      .that.matches(/ca\.yaml: machine\.ca\.crt: is not a CA/);
    expect(config.toYaml()).to.equal(before);
  });

  it('gen secrets --from-kubernetes-pki refuses a kubeadm etcd CA without keyCertSign, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpki-'));
    try {
      cpSync(fixturePath('kubernetes-pki'), dir, { recursive: true });
      const bad = opensslCA({ keyUsage: 'critical,digitalSignature' });
      writeFileSync(join(dir, 'etcd', 'ca.crt'), bad.crt);
      writeFileSync(join(dir, 'etcd', 'ca.key'), bad.key);
      let refused: unknown;
      await readKubernetesPki(dir, NOW).catch((err: unknown) => (refused = err));
      expect(refused).to.be.instanceOf(ConfigError);
      expect((refused as Error).message).to.equal(`${join(dir, 'etcd', 'ca.crt')}: is a CA whose keyUsage lacks keyCertSign, so nothing it signs verifies; re-create it with keyUsage keyCertSign`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
