import { expect } from 'chai';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSecretsBundleYaml, generateSecretsBundle, parseSecretsBundle, readKubernetesPki, validateSecretsBundle } from '../../src/config/index.js';
import type { SecretsBundle } from '../../src/config/index.js';
import { randomTokenString } from '../../src/config/random-token.js';
import { opensslFiles, opensslKeyPem, x509Text } from '../pki/openssl.js';
import { fixturePath, readFixture } from './support/talos-fixtures.js';

const TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;

function keyOf(pem: string) {
  return createPrivateKey(opensslKeyPem(pem));
}

describe('secrets bundle: generation', () => {
  let bundle: SecretsBundle;
  const now = new Date('2025-03-01T12:00:00Z');
  before(async () => {
    bundle = await generateSecretsBundle({ now });
  });

  it('generates tokens in the kubeadm shape and 32-byte ids and secrets', () => {
    expect(bundle.secrets.bootstrapToken).to.match(TOKEN);
    expect(bundle.trustdInfo.token).to.match(TOKEN);
    expect(bundle.trustdInfo.token).to.not.equal(bundle.secrets.bootstrapToken);
    expect(Buffer.from(bundle.cluster.id.replace(/-/g, '+').replace(/_/g, '/'), 'base64')).to.have.length(32);
    expect(Buffer.from(bundle.cluster.secret, 'base64')).to.have.length(32);
    expect(Buffer.from(bundle.secrets.secretboxEncryptionSecret!, 'base64')).to.have.length(32);
    expect(bundle.secrets).to.not.have.property('aescbcEncryptionSecret');
  });

  it('creates the four CAs with Talos subjects, 10-year validity and CA usages, as openssl reads them', () => {
    const expected: [keyof SecretsBundle['certs'], RegExp][] = [
      ['os', /Subject: O ?= ?talos\n/],
      ['k8s', /Subject: O ?= ?kubernetes\n/],
      ['etcd', /Subject: O ?= ?etcd\n/],
      ['k8sAggregator', /Subject: (CN ?= ?front-proxy)?\n/],
    ];
    for (const [name, subject] of expected) {
      const pair = bundle.certs[name] as { crt: string; key: string };
      const text = x509Text(pair.crt);
      expect(text, name).to.match(subject);
      expect(text, name).to.match(/CA:TRUE/);
      expect(text, name).to.match(/Certificate Sign/);
      expect(text, name).to.match(/id-ecPublicKey[\s\S]*prime256v1|prime256v1[\s\S]*id-ecPublicKey/);
      const cert = new X509Certificate(pair.crt);
      expect(new Date(cert.validTo).getTime() - new Date(cert.validFrom).getTime(), name).to.equal(87600 * 3600_000);
      expect(cert.checkPrivateKey(keyOf(pair.key)), name).to.equal(true);
      expect(opensslFiles(['verify', '-x509_strict', '-CAfile', '{ca.pem}', '{ca.pem}'], { 'ca.pem': pair.crt }).ok, name).to.equal(true);
    }
  });

  it('writes EC keys as SEC1 "EC PRIVATE KEY" and the service-account key as ECDSA P-256 by default', () => {
    expect(bundle.certs.k8s.key).to.match(/^-----BEGIN EC PRIVATE KEY-----/);
    const sa = keyOf(bundle.certs.k8sServiceAccount.key);
    expect(sa.asymmetricKeyType).to.equal('ec');
    expect(sa.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
  });

  it('reads back every field of a bundle it wrote', () => {
    expect(validateSecretsBundle(parseSecretsBundle(formatSecretsBundleYaml(bundle)))).to.deep.equal(bundle);
  });

  it('makes an Ed25519 OS CA with the "ED25519 PRIVATE KEY" label when asked', async () => {
    const b = await generateSecretsBundle({ now, osCAAlgorithm: 'ed25519' });
    expect(b.certs.os.key).to.match(/^-----BEGIN ED25519 PRIVATE KEY-----/);
    expect(new X509Certificate(b.certs.os.crt).publicKey.asymmetricKeyType).to.equal('ed25519');
    expect(x509Text(b.certs.os.crt)).to.match(/ED25519/);
  });

  it('makes an RSA-4096 service-account key when asked', async () => {
    const b = await generateSecretsBundle({ now, serviceAccountAlgorithm: 'rsa' });
    expect(b.certs.k8sServiceAccount.key).to.match(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(keyOf(b.certs.k8sServiceAccount.key).asymmetricKeyDetails?.modulusLength).to.equal(4096);
  });

  it('writes the legacy aescbc secret instead of secretbox when asked', async () => {
    const b = await generateSecretsBundle({ now, legacyEncryption: true });
    expect(b.secrets.aescbcEncryptionSecret).to.be.a('string');
    expect(b.secrets).to.not.have.property('secretboxEncryptionSecret');
  });
});

describe('secrets bundle: tokens', () => {
  it('rejects random bytes >= 252 instead of folding them with a modulo (no bias)', () => {
    // 252..255 would map to 0..3 with a plain modulo; they must be skipped, so only 35 -> "z" and 36 -> "0" count
    const bytes = [255, 254, 253, 252, 35, 36, 252, 71];
    let at = 0;
    const source = (n: number) => Buffer.from(Array.from({ length: n }, () => bytes[at++ % bytes.length]));
    // accepted: 35 -> z, 36 -> 0, 71 -> z, then (next read) 35 -> z; a plain modulo would have started with 255 % 36 -> "3"
    expect(randomTokenString(4, source)).to.equal('z0zz');
  });
});

describe('secrets bundle: import of a kubeadm PKI directory', () => {
  it('takes the Kubernetes, etcd and aggregator CAs and the service-account key from the directory and generates the rest', async () => {
    const supplied = await readKubernetesPki(fixturePath('kubernetes-pki'), new Date());
    const bundle = await generateSecretsBundle({ supplied });
    expect(bundle.certs.k8s).to.deep.equal({ crt: readFixture('kubernetes-pki', 'ca.crt'), key: readFixture('kubernetes-pki', 'ca.key') });
    expect(bundle.certs.etcd).to.deep.equal({ crt: readFixture('kubernetes-pki', 'etcd', 'ca.crt'), key: readFixture('kubernetes-pki', 'etcd', 'ca.key') });
    expect(bundle.certs.k8sAggregator).to.deep.equal({
      crt: readFixture('kubernetes-pki', 'front-proxy-ca.crt'),
      key: readFixture('kubernetes-pki', 'front-proxy-ca.key'),
    });
    expect(bundle.certs.k8sServiceAccount.key).to.equal(readFixture('kubernetes-pki', 'sa.key'));
    expect(x509Text(bundle.certs.os.crt)).to.match(/O ?= ?talos/);
    expect(validateSecretsBundle(parseSecretsBundle(formatSecretsBundleYaml(bundle)))).to.deep.equal(bundle);
  });

  it('says "<dir>" is not a directory for a file', async () => {
    const file = fixturePath('kubernetes-pki', 'ca.crt');
    try {
      await readKubernetesPki(file, new Date());
      expect.fail('no error');
    } catch (err) {
      expect((err as Error).message).to.equal(`"${file}" is not a directory`);
    }
  });

  it('names the missing file and the expected layout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8s-pki-'));
    try {
      writeFileSync(join(dir, 'ca.crt'), readFixture('kubernetes-pki', 'ca.crt'));
      writeFileSync(join(dir, 'ca.key'), readFixture('kubernetes-pki', 'ca.key'));
      try {
        await readKubernetesPki(dir, new Date());
        expect.fail('no error');
      } catch (err) {
        expect((err as Error).message).to.equal(
          `${join(dir, 'etcd', 'ca.crt')}: no such file (expected kubeadm's layout: ca.crt/ca.key, etcd/ca.crt/ca.key, front-proxy-ca.crt/front-proxy-ca.key, sa.key)`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
