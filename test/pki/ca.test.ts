import { expect } from 'chai';
import { PkiError, caFromPem, createCA, encodePrivateKeyPem, inspectCertificate, issueCertificate } from '../../src/pki/index.js';
import type { CaProfile, KeyAlgorithm } from '../../src/pki/index.js';
import { fixtureBundle, kubernetesPki } from './fixtures.js';
import { cleanupTempFiles, extensionText, verifyStrict, x509Info } from './openssl.js';
import { sharedKey } from './shared-keys.js';

const SUBJECTS: Record<CaProfile, string> = { os: 'O = talos', kubernetes: 'O = kubernetes', etcd: 'O = etcd', aggregator: 'CN = front-proxy' };
const SIGNATURES: Record<KeyAlgorithm, RegExp> = { ecdsa: /ecdsa-with-SHA256/, ed25519: /ED25519/, rsa: /sha256WithRSAEncryption/ };
const NOW = new Date('2026-03-01T12:00:00Z');

describe('pki/ca', () => {
  after(cleanupTempFiles);

  for (const profile of ['os', 'kubernetes', 'etcd', 'aggregator'] as const) {
    for (const algorithm of ['ecdsa', 'ed25519', 'rsa'] as const) {
      it(`creates the ${profile} CA with a ${algorithm} key as a 10-year self-signed CA that OpenSSL accepts strictly`, async () => {
        // RSA keygen is slow: generate one RSA CA key for real (os), reuse a shared key for the others
        const key = algorithm === 'rsa' && profile !== 'os' ? sharedKey('rsa') : undefined;
        const ca = await createCA(profile, { algorithm, now: NOW, key });
        expect(ca.key.algorithm).to.equal(algorithm);
        const info = x509Info(ca.certPem);
        const text = info.text;
        expect(text).to.include(`Subject: ${SUBJECTS[profile]}\n`);
        expect(text).to.include(`Issuer: ${SUBJECTS[profile]}\n`);
        expect(text).to.match(SIGNATURES[algorithm]);
        expect(extensionText(text, 'X509v3 Basic Constraints')).to.deep.equal({ critical: true, value: 'CA:TRUE' });
        expect(extensionText(text, 'X509v3 Key Usage')).to.deep.equal({ critical: true, value: 'Digital Signature, Certificate Sign, CRL Sign' });
        expect(extensionText(text, 'X509v3 Extended Key Usage')).to.deep.equal({
          critical: false,
          value: 'TLS Web Server Authentication, TLS Web Client Authentication',
        });
        const ski = extensionText(text, 'X509v3 Subject Key Identifier')?.value;
        expect(ski).to.match(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
        expect(extensionText(text, 'X509v3 Authority Key Identifier')?.value.replace(/^keyid:/, '')).to.equal(ski);
        expect(info.notBefore.toISOString()).to.equal(NOW.toISOString());
        expect(info.notAfter.getTime() - NOW.getTime()).to.equal(87600 * 3_600_000);
        expect(info.serial > 0n && info.serial < 1n << 128n).to.equal(true);
        expect(inspectCertificate(ca.cert).sha256Fingerprint).to.equal(info.sha256Fingerprint);
        const self = verifyStrict(ca.certPem, ca.certPem, undefined, new Date(NOW.getTime() + 1000));
        expect(self.ok, self.out).to.equal(true);
      });
    }
  }

  it('gives each CA a fresh random serial', async () => {
    const key = sharedKey('ecdsa');
    const serials = new Set<string>();
    for (let i = 0; i < 20; i++) serials.add(inspectCertificate((await createCA('os', { key })).cert).serial);
    expect(serials.size).to.equal(20);
  });

  it('honours validityHours and subject overrides, and refuses a non-positive validity', async () => {
    const ca = await createCA('kubernetes', { key: sharedKey('ecdsa'), now: NOW, validityHours: 24, commonName: 'my-ca', organizations: ['acme'] });
    const info = inspectCertificate(ca.cert);
    expect(info.notAfter.getTime() - NOW.getTime()).to.equal(24 * 3_600_000);
    expect(info.subject.text).to.equal('CN=my-ca,O=acme');
    try {
      await createCA('os', { key: sharedKey('ecdsa'), validityHours: 0 });
      expect.fail('expected an error');
    } catch (err) {
      expect(err).to.be.instanceOf(PkiError);
      expect((err as Error).message).to.equal('validityHours: must be positive, got 0');
    }
  });

  it('loads a CA from PEM and issues from it as from the original', async () => {
    const ca = await createCA('os', { algorithm: 'ed25519' });
    const loaded = caFromPem(ca.certPem, encodePrivateKeyPem(ca.key));
    expect(loaded.cert.fingerprint256).to.equal(ca.cert.fingerprint256);
    const leaf = issueCertificate(loaded, 'talos-client', { publicKey: sharedKey('ed25519').publicKey });
    expect(verifyStrict(ca.certPem, leaf.certPem, 'sslclient').ok).to.equal(true);
  });

  it('refuses a key that does not belong to the CA certificate', async () => {
    const ca = await createCA('os', { key: sharedKey('ecdsa') });
    const other = encodePrivateKeyPem(sharedKey('ed25519'));
    expect(() => caFromPem(ca.certPem, other)).to.throw(PkiError, /CA key: does not match the public key of the CA certificate "O=talos"/);
  });

  it('refuses a leaf certificate offered as a CA', async () => {
    const ca = await createCA('os', { key: sharedKey('ecdsa') });
    const leafKey = sharedKey('ed25519');
    const leaf = issueCertificate(ca, 'talos-client', { publicKey: leafKey.publicKey });
    expect(() => caFromPem(leaf.certPem, encodePrivateKeyPem(leafKey))).to.throw(PkiError, /"CN=talosctl-client,O=os:admin" is not a CA \(BasicConstraints CA:TRUE is missing\)/);
    expect(() => caFromPem('garbage', encodePrivateKeyPem(leafKey))).to.throw(PkiError, /CA certificate: no PEM block found/);
  });

  it('loads the four CAs of a real Talos bundle, including the Ed25519 OS CA and the empty-subject aggregator CA', () => {
    const bundle = fixtureBundle();
    const os = caFromPem(bundle.os.crt, bundle.os.key);
    expect(os.key.algorithm).to.equal('ed25519');
    expect(inspectCertificate(os.cert).subject.organizations).to.deep.equal(['talos']);
    expect(inspectCertificate(caFromPem(bundle.etcd.crt, bundle.etcd.key).cert).subject.text).to.equal('O=etcd');
    expect(inspectCertificate(caFromPem(bundle.k8s.crt, bundle.k8s.key).cert).subject.text).to.equal('O=kubernetes');
    expect(inspectCertificate(caFromPem(bundle.k8saggregator.crt, bundle.k8saggregator.key).cert).subject.text).to.equal('');
    const leaf = issueCertificate(os, 'talos-client', { publicKey: sharedKey('ed25519').publicKey, now: new Date('2024-01-01T00:00:00Z') });
    const r = verifyStrict(bundle.os.crt, leaf.certPem, 'sslclient', new Date('2024-01-02T00:00:00Z'));
    expect(r.ok, r.out).to.equal(true);
  });

  it('loads the CAs of a real kubeadm PKI directory and issues leaves OpenSSL accepts', () => {
    for (const [crt, key, profile] of [
      ['ca.crt', 'ca.key', 'kube-apiserver'],
      ['etcd/ca.crt', 'etcd/ca.key', 'etcd-server'],
      ['front-proxy-ca.crt', 'front-proxy-ca.key', 'front-proxy-client'],
    ] as const) {
      const ca = caFromPem(kubernetesPki(crt), kubernetesPki(key));
      expect(ca.key.algorithm).to.equal('rsa');
      const leaf = issueCertificate(ca, profile, { publicKey: sharedKey('ecdsa').publicKey, commonName: 'node1', now: new Date('2023-01-01T00:00:00Z') });
      const r = verifyStrict(ca.certPem, leaf.certPem, profile === 'front-proxy-client' ? 'sslclient' : 'sslserver', new Date('2023-01-02T00:00:00Z'));
      expect(r.ok, `${crt}: ${r.out}`).to.equal(true);
    }
  });
});
