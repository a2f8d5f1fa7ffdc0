import { expect } from 'chai';
import { createPrivateKey } from 'node:crypto';
import {
  PkiError,
  encodePrivateKeyPem,
  encodePrivateKeyPkcs8Pem,
  generateKeyPair,
  generateKeyPairSync,
  parsePrivateKeyPem,
} from '../../src/pki/index.js';
import type { KeyAlgorithm } from '../../src/pki/index.js';
import { fixtureBundle, kubernetesPki } from './fixtures.js';
import { cleanupTempFiles, openssl, tempFile } from './openssl.js';
import { sharedKey } from './shared-keys.js';

const LABELS: Record<KeyAlgorithm, string> = { ecdsa: 'EC PRIVATE KEY', ed25519: 'ED25519 PRIVATE KEY', rsa: 'RSA PRIVATE KEY' };

describe('pki/keys', () => {
  after(cleanupTempFiles);

  for (const algorithm of ['ecdsa', 'ed25519', 'rsa'] as const) {
    it(`round-trips a ${algorithm} key through PEM with the Talos label "${LABELS[algorithm]}"`, async () => {
      const key = await generateKeyPair(algorithm);
      const pem = encodePrivateKeyPem(key);
      expect(pem.split('\n')[0]).to.equal(`-----BEGIN ${LABELS[algorithm]}-----`);
      const back = parsePrivateKeyPem(pem);
      expect(back.algorithm).to.equal(algorithm);
      expect(back.publicKey.equals(key.publicKey)).to.equal(true);
      expect(back.privateKey.equals(key.privateKey)).to.equal(true);
    });

    it(`writes a ${algorithm} key that OpenSSL reads (after relabelling Ed25519 to PKCS#8)`, () => {
      const pem = encodePrivateKeyPem(sharedKey(algorithm)).replace(/ED25519 PRIVATE KEY/g, 'PRIVATE KEY');
      const r = openssl(['pkey', '-in', tempFile(pem), '-noout', '-text']);
      expect(r.ok, r.out).to.equal(true);
      expect(r.out).to.match(algorithm === 'ecdsa' ? /NIST CURVE: P-256|prime256v1/ : algorithm === 'rsa' ? /2048 bit/ : /ED25519 Private-Key/);
    });
  }

  it('reads PKCS#8 "PRIVATE KEY" for every algorithm, including keys written by OpenSSL', () => {
    for (const algorithm of ['ecdsa', 'ed25519', 'rsa'] as const) {
      expect(parsePrivateKeyPem(encodePrivateKeyPkcs8Pem(sharedKey(algorithm))).algorithm).to.equal(algorithm);
    }
    const made = openssl(['genpkey', '-algorithm', 'ED25519']);
    expect(made.ok).to.equal(true);
    expect(parsePrivateKeyPem(made.out).algorithm).to.equal('ed25519');
    const ec = openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout']);
    expect(parsePrivateKeyPem(ec.out).algorithm).to.equal('ecdsa');
  });

  it('generates RSA keys of the requested size and reports it', () => {
    const key = sharedKey('rsa');
    expect(key.rsaBits).to.equal(2048);
    expect(key.privateKey.asymmetricKeyDetails?.modulusLength).to.equal(2048);
  });

  it('parses the real Talos bundle keys: Ed25519 OS CA under "ED25519 PRIVATE KEY" and EC keys', () => {
    const bundle = fixtureBundle();
    expect(parsePrivateKeyPem(bundle.os.key).algorithm).to.equal('ed25519');
    for (const name of ['etcd', 'k8s', 'k8saggregator', 'k8sserviceaccount'] as const) {
      const key = parsePrivateKeyPem(bundle[name].key);
      expect(key.algorithm, name).to.equal('ecdsa');
      // our encoding of the same key is byte-identical to what Talos wrote
      expect(encodePrivateKeyPem(key), name).to.equal(bundle[name].key);
    }
    expect(encodePrivateKeyPem(parsePrivateKeyPem(bundle.os.key))).to.equal(bundle.os.key);
  });

  it('parses the real kubeadm RSA keys of a Kubernetes PKI directory', () => {
    for (const path of ['ca.key', 'front-proxy-ca.key', 'sa.key', 'etcd/ca.key']) {
      const key = parsePrivateKeyPem(kubernetesPki(path));
      expect(key.algorithm, path).to.equal('rsa');
      expect(key.rsaBits, path).to.equal(2048);
    }
  });

  it('refuses input that is not a usable private key, saying what was found and what to do', () => {
    expect(() => parsePrivateKeyPem('not pem')).to.throw(PkiError, /private key: no PEM block found/);
    expect(() => parsePrivateKeyPem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).to.throw(PkiError, /unsupported PEM label "CERTIFICATE"/);
    expect(() => parsePrivateKeyPem('-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n')).to.throw(PkiError, /encrypted keys are not supported/);
    expect(() => parsePrivateKeyPem('-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n')).to.throw(PkiError, /does not hold a valid key/);
    const rsaAsEd = encodePrivateKeyPkcs8Pem(sharedKey('ecdsa')).replace(/PRIVATE KEY/g, 'ED25519 PRIVATE KEY');
    expect(() => parsePrivateKeyPem(rsaAsEd)).to.throw(PkiError, /holds a ecdsa key/);
    const dsa = createPrivateKey(openssl(['genpkey', '-algorithm', 'X25519']).out);
    expect(() => parsePrivateKeyPem(dsa.export({ type: 'pkcs8', format: 'pem' }) as string)).to.throw(PkiError, /key type "x25519" is not supported/);
  });

  it('refuses unknown algorithms and RSA sizes by name', () => {
    expect(() => generateKeyPairSync('dsa' as KeyAlgorithm)).to.throw(PkiError, /key algorithm: "dsa" is not supported; use one of ecdsa, ed25519, rsa/);
    expect(() => generateKeyPairSync('rsa', { rsaBits: 1024 as 2048 })).to.throw(PkiError, /rsaBits: 1024 is not supported/);
  });
});
