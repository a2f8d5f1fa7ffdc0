import { expect } from 'chai';
import { PkiError, createCA, inspectCertificate, issueCertificate, parseCertificateBundle, parseCertificatePem, splitPemBundle } from '../../src/pki/index.js';
import { fixtureBundle, kubernetesPki } from './fixtures.js';
import { cleanupTempFiles, openssl, tempFile, x509Info } from './openssl.js';
import { sharedKey } from './shared-keys.js';

const NOW = new Date('2026-03-01T12:00:00Z');

describe('pki/inspect', () => {
  after(cleanupTempFiles);

  it('reports what openssl reports for a Talos client certificate', async () => {
    const ca = await createCA('os', { key: sharedKey('ed25519'), now: NOW });
    const leaf = issueCertificate(ca, 'talos-client', { publicKey: sharedKey('ecdsa').publicKey, now: NOW, organizations: ['os:reader'] });
    const info = inspectCertificate(leaf.certPem);
    const judge = x509Info(leaf.certPem);
    expect(info.sha256Fingerprint).to.equal(judge.sha256Fingerprint);
    expect(BigInt('0x' + info.serial)).to.equal(judge.serial);
    expect(info.notBefore.getTime()).to.equal(judge.notBefore.getTime());
    expect(info.notAfter.getTime()).to.equal(judge.notAfter.getTime());
    expect(info).to.deep.include({
      isCA: false,
      keyAlgorithm: 'ecdsa',
      keySize: 256,
      curve: 'P-256',
      keyUsage: ['digitalSignature'],
      extKeyUsage: ['clientAuth'],
      dnsNames: [],
      ipAddresses: [],
      selfSigned: false,
    });
    expect(info.subject).to.deep.equal({ text: 'CN=talosctl-client,O=os:reader', commonName: 'talosctl-client', organizations: ['os:reader'] });
    expect(info.issuer).to.deep.equal({ text: 'O=talos', commonName: '', organizations: ['talos'] });
    expect(judge.text).to.include(info.subjectKeyId!);
    expect(info.authorityKeyId).to.equal(inspectCertificate(ca.cert).subjectKeyId);
  });

  it('reports key algorithm and size for Ed25519 and RSA, and CA flags', async () => {
    const ed = inspectCertificate((await createCA('etcd', { key: sharedKey('ed25519') })).cert);
    expect(ed).to.deep.include({ keyAlgorithm: 'ed25519', keySize: 256, isCA: true, selfSigned: true, keyUsage: ['digitalSignature', 'keyCertSign', 'cRLSign'], extKeyUsage: ['serverAuth', 'clientAuth'] });
    expect(ed.curve).to.equal(undefined);
    const rsa = inspectCertificate(parseCertificatePem(kubernetesPki('ca.crt')));
    expect(rsa).to.deep.include({ keyAlgorithm: 'rsa', keySize: 2048, isCA: true, selfSigned: true });
    expect(rsa.keyUsage).to.deep.equal(['digitalSignature', 'keyEncipherment', 'keyCertSign']);
    expect(rsa.subject.commonName).to.equal('kubernetes');
  });

  it('matches openssl\'s fingerprints for the real Talos CAs', () => {
    const bundle = fixtureBundle();
    for (const name of ['os', 'etcd', 'k8s', 'k8saggregator'] as const) {
      expect(inspectCertificate(bundle[name].crt).sha256Fingerprint, name).to.equal(x509Info(bundle[name].crt).sha256Fingerprint);
    }
  });

  it('reads certificates made by openssl, including one with a negative serial', () => {
    const key = tempFile(openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384']).out);
    const r = openssl(['req', '-x509', '-new', '-key', key, '-subj', '/O=acme/OU=ops/CN=legacy', '-days', '30', '-set_serial', '-5', '-addext', 'subjectAltName=DNS:legacy.example,IP:192.0.2.1']);
    expect(r.ok, r.out).to.equal(true);
    const info = inspectCertificate(r.out);
    expect(info).to.deep.include({ keyAlgorithm: 'ecdsa', curve: 'P-384', keySize: 384, dnsNames: ['legacy.example'], ipAddresses: ['192.0.2.1'] });
    expect(info.subject.text).to.equal('CN=legacy,OU=ops,O=acme');
    expect(info.serial).to.equal('FB');
    expect(info.sha256Fingerprint).to.equal(x509Info(r.out).sha256Fingerprint);
  });

  it('splits bundles into certificates and ignores text between them', async () => {
    const a = (await createCA('os', { key: sharedKey('ecdsa') })).certPem;
    const b = (await createCA('etcd', { key: sharedKey('ecdsa') })).certPem;
    const bundle = `# accepted CAs\n${a}\nsome comment\n${b.replace(/\n/g, '\r\n')}`;
    expect(splitPemBundle(bundle)).to.deep.equal([a, b]);
    expect(parseCertificateBundle(bundle).map((c) => inspectCertificate(c).subject.text)).to.deep.equal(['O=talos', 'O=etcd']);
  });

  it('says what is wrong with input that is not a certificate', () => {
    expect(() => parseCertificatePem('')).to.throw(PkiError, 'certificate: no PEM block found (expected "-----BEGIN CERTIFICATE-----")');
    expect(() => parseCertificatePem('-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n')).to.throw(PkiError, 'certificate: expected a "CERTIFICATE" PEM block, got "EC PRIVATE KEY"');
    expect(() => parseCertificatePem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'machine.ca.crt')).to.throw(PkiError, /^machine\.ca\.crt: not a valid X\.509 certificate/);
    expect(() => parseCertificateBundle('nothing here', 'cluster.acceptedCAs')).to.throw(PkiError, 'cluster.acceptedCAs: no "CERTIFICATE" PEM block found');
  });
});
