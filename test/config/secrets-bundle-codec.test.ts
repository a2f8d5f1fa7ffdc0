import { expect } from 'chai';
import { parseSecretsBundle, formatSecretsBundleJson, formatSecretsBundleYaml, secretsBundleProblems, validateSecretsBundle, MultiError, ConfigError } from '../../src/config/index.js';
import { readFixture } from './support/talos-fixtures.js';

describe('secrets bundle: reading and writing Talos files', () => {
  for (const file of ['secrets.yaml', 'stability-secrets.yaml']) {
    it(`imports the real Talos bundle ${file} with every section present and valid`, () => {
      const bundle = validateSecretsBundle(parseSecretsBundle(readFixture('secrets', file)));
      expect(bundle.cluster.id).to.have.length(44);
      expect(bundle.secrets.bootstrapToken).to.match(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
      expect(bundle.trustdInfo.token).to.match(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
      expect(bundle.secrets.secretboxEncryptionSecret).to.be.a('string').with.length(44);
      for (const ca of [bundle.certs.etcd, bundle.certs.k8s, bundle.certs.k8sAggregator, bundle.certs.os]) {
        expect(ca.crt).to.match(/^-----BEGIN CERTIFICATE-----\n/);
        expect(ca.key).to.match(/^-----BEGIN (EC|ED25519) PRIVATE KEY-----\n/);
      }
      expect(bundle.certs.os.key).to.match(/^-----BEGIN ED25519 PRIVATE KEY-----\n/);
      expect(bundle.certs.k8sServiceAccount.key).to.match(/^-----BEGIN EC PRIVATE KEY-----\n/);
    });

    it(`re-writes ${file} byte for byte as Talos wrote it (key order, 4-space indent, base64 PEM, header comment)`, () => {
      const text = readFixture('secrets', file);
      expect(formatSecretsBundleYaml(validateSecretsBundle(parseSecretsBundle(text)))).to.equal(text);
    });
  }

  it('reports exactly the six problems upstream finds in invalid-secrets.yaml, in upstream order', () => {
    const problems = secretsBundleProblems(parseSecretsBundle(readFixture('secrets', 'invalid-secrets.yaml')));
    expect(problems).to.deep.equal([
      'cluster.secret is required',
      'one of [secrets.secretboxencryptionsecret, secrets.aescbcencryptionsecret] is required',
      'trustdinfo is required',
      "certs.etcd is invalid: failed to parse PEM block: certs.etcd.key is empty; put the CA's private key there (base64 of its PEM): a bundle without its CA keys cannot sign",
      'certs.k8saggregator is required',
      'certs.os is invalid: unsupported key type: "CERTIFICATE"',
    ]);
  });

  it('throws one MultiError listing every problem like go-multierror', () => {
    const draft = parseSecretsBundle(readFixture('secrets', 'invalid-secrets.yaml'));
    try {
      validateSecretsBundle(draft);
      expect.fail('validation passed');
    } catch (err) {
      expect(err).to.be.instanceOf(MultiError);
      expect((err as MultiError).errors).to.have.length(6);
      expect((err as Error).message).to.match(/^6 errors occurred:\n\t\* cluster\.secret is required\n/);
    }
  });

  it('reads the PascalCase JSON form and writes it back to the same bundle', () => {
    const bundle = validateSecretsBundle(parseSecretsBundle(readFixture('secrets', 'secrets.yaml')));
    const json = formatSecretsBundleJson(bundle);
    const parsed = JSON.parse(json) as { Certs: { OS: { Crt: string } }; Cluster: { Id: string } };
    expect(parsed.Cluster.Id).to.equal(bundle.cluster.id);
    expect(Buffer.from(parsed.Certs.OS.Crt, 'base64').toString()).to.equal(bundle.certs.os.crt);
    expect(validateSecretsBundle(parseSecretsBundle(json))).to.deep.equal(bundle);
  });

  it('rejects a bundle holding both encryption secrets', () => {
    const text = readFixture('secrets', 'secrets.yaml').replace(
      '    secretboxencryptionsecret:',
      '    aescbcencryptionsecret: 6zWBpno849HlD5jeuTmGToFYP+z8lgkJa0fhHobv7mE=\n    secretboxencryptionsecret:',
    );
    expect(secretsBundleProblems(parseSecretsBundle(text))).to.deep.equal([
      'only one of [secrets.secretboxencryptionsecret, secrets.aescbcencryptionsecret] is allowed',
    ]);
  });

  it('keeps a legacy aescbc bundle legacy when re-written', () => {
    const text = readFixture('secrets', 'secrets.yaml').replace('secretboxencryptionsecret', 'aescbcencryptionsecret');
    const bundle = validateSecretsBundle(parseSecretsBundle(text));
    expect(bundle.secrets).to.not.have.property('secretboxEncryptionSecret');
    expect(formatSecretsBundleYaml(bundle)).to.equal(text);
  });

  it('names the field whose value is not base64', () => {
    const text = readFixture('secrets', 'secrets.yaml').replace(/( {4}os:\n {8}crt: )\S+/, '$1not*base64!');
    expect(() => parseSecretsBundle(text)).to.throw(ConfigError, /^certs\.os\.crt: expected standard base64/);
  });

  it('names the field whose value has the wrong shape', () => {
    expect(() => parseSecretsBundle('cluster: [1, 2]\n')).to.throw(ConfigError, 'cluster: expected a map, got a list');
  });

  it('reports a corrupted private key as invalid', () => {
    const text = readFixture('secrets', 'secrets.yaml');
    const bundle = validateSecretsBundle(parseSecretsBundle(text));
    const broken = { ...bundle, certs: { ...bundle.certs, k8s: { crt: bundle.certs.k8s.crt, key: bundle.certs.k8s.key.replace('MHcCAQEEI', 'MHcCAQEEJ') } } };
    const problems = secretsBundleProblems(parseSecretsBundle(formatSecretsBundleYaml(broken)));
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/^certs\.k8s is invalid: /);
  });

  it('reports a CA whose key belongs to another certificate', () => {
    const bundle = validateSecretsBundle(parseSecretsBundle(readFixture('secrets', 'secrets.yaml')));
    const swapped = { ...bundle, certs: { ...bundle.certs, etcd: { crt: bundle.certs.etcd.crt, key: bundle.certs.k8s.key } } };
    expect(secretsBundleProblems(parseSecretsBundle(formatSecretsBundleYaml(swapped)))).to.deep.equal([
      "certs.etcd is invalid: the key does not match the certificate's public key",
    ]);
  });
});
