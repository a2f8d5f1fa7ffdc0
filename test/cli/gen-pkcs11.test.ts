import { expect } from 'chai';
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { contextCredentials, parseSecretsBundle, parseTalosconfig, validateSecretsBundle } from '../../src/config/index.js';
import type { SecretsBundle } from '../../src/config/index.js';
import { openToken, signingCaOf } from '../../src/config/token-cas.js';
import { issueCertificateAsync } from '../../src/pki/index.js';
import { parsePkcs11Uri } from '../../src/pki/pkcs11/index.js';
import { Sandbox } from '../config/support/run-trustctl.js';
import { fixturePath, readFixture } from '../config/support/talos-fixtures.js';
import { openssl, tempFile, verifyStrict } from '../pki/openssl.js';
import { sharedKey } from '../pki/shared-keys.js';
import { createSoftToken, listTokenObjects, pkcs11ToolMissing, privateKeyAccess, softhsmMissing } from '../support/softhsm.js';
import type { SoftToken } from '../support/softhsm.js';

const CAS = ['etcd', 'k8s', 'k8sAggregator', 'os'] as const;
const LABELS = { etcd: 'trustplane etcd CA', k8s: 'trustplane kubernetes CA', k8sAggregator: 'trustplane aggregator CA', os: 'trustplane os CA' };

describe('trustctl gen secrets with the CA keys in a PKCS#11 token (SoftHSM2)', function () {
  this.timeout(60_000);
  let box: Sandbox;
  let soft: SoftToken;
  before(function () {
    if (softhsmMissing() ?? pkcs11ToolMissing()) this.skip();
  });
  beforeEach(() => {
    box = new Sandbox();
    soft = createSoftToken('cluster-cas');
  });
  afterEach(() => {
    box?.remove();
    soft?.remove();
  });
  const flags = () => ['--pkcs11-module', soft.module, '--pkcs11-token', soft.label, '--pkcs11-pin-file', soft.pinFile];
  const env = () => ({ SOFTHSM2_CONF: soft.conf });

  it('generates the four CA keys in the token (sensitive, never extractable) and writes their URIs and certificates', async () => {
    const r = await box.run(['gen', 'secrets', ...flags()], env());
    expect(r.code, r.stderr).to.equal(0);
    expect(box.mode('secrets.yaml')).to.equal(0o600);
    const text = readFileSync(box.path('secrets.yaml'), 'utf8');
    const bundle = validateSecretsBundle(parseSecretsBundle(text));
    const listing = listTokenObjects(soft);
    for (const ca of CAS) {
      const uri = parsePkcs11Uri(bundle.certs[ca].key);
      expect(uri).to.include({ token: 'cluster-cas', object: LABELS[ca], type: 'private' });
      expect(text).to.include(`key: ${bundle.certs[ca].key}\n`);
      expect(privateKeyAccess(listing, LABELS[ca])).to.include.members(['sensitive', 'never extractable']).and.not.include('extractable');
      const self = openssl(['verify', '-x509_strict', '-CAfile', tempFile(bundle.certs[ca].crt), tempFile(bundle.certs[ca].crt)]);
      expect(self.ok, self.out).to.equal(true);
    }
    expect(text).to.not.include('PRIVATE KEY');
    expect(Buffer.from(text.replace(/\s/g, ''), 'base64').toString('latin1')).to.not.include('PRIVATE KEY');
    // the service-account key signs outside trustplane (kube-apiserver) and stays a PEM key
    expect(bundle.certs.k8sServiceAccount.key).to.match(/^-----BEGIN EC PRIVATE KEY-----/);

    const token = openToken({ module: soft.module, token: soft.label, pinFile: soft.pinFile });
    try {
      const os = signingCaOf(bundle.certs.os, token, 'certs.os');
      const leaf = await issueCertificateAsync(os, 'node-server', { publicKey: sharedKey('ecdsa').publicKey, ipAddresses: ['10.0.0.1'] });
      const verdict = verifyStrict(bundle.certs.os.crt, leaf.certPem, 'sslserver');
      expect(verdict.ok, verdict.out).to.equal(true);
    } finally {
      token.close();
    }
  });

  it('takes the token from TRUSTPLANE_PKCS11_* variables; an Ed25519 OS CA signs with CKM_EDDSA', async () => {
    const r = await box.run(['gen', 'secrets', '-o', 'env.yaml', '--ca-algorithm', 'ed25519'], {
      ...env(),
      TRUSTPLANE_PKCS11_MODULE: soft.module,
      TRUSTPLANE_PKCS11_TOKEN: soft.label,
      TRUSTPLANE_PKCS11_PIN_FILE: soft.pinFile,
    });
    expect(r.code, r.stderr).to.equal(0);
    const bundle: SecretsBundle = validateSecretsBundle(parseSecretsBundle(readFileSync(box.path('env.yaml'), 'utf8')));
    expect(openssl(['x509', '-noout', '-text', '-in', tempFile(bundle.certs.os.crt)]).out).to.match(/Signature Algorithm: ED25519/);
    expect(listTokenObjects(soft).match(/Private Key Object/g)).to.have.length(4);
  });

  it('a wrong PIN names the module, the token and the fix, and leaves no file and no key behind', async () => {
    writeFileSync(soft.pinFile, '9999\n');
    const r = await box.run(['gen', 'secrets', ...flags()], env());
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal(
      `error: PKCS#11 token "cluster-cas" (module ${soft.module}): login refused (CKR_PIN_INCORRECT); put the token's user PIN in the file named by --pkcs11-pin-file (TRUSTPLANE_PKCS11_PIN_FILE)\n`,
    );
    expect(box.files()).to.deep.equal([]);
    writeFileSync(soft.pinFile, '1234\n');
    expect(listTokenObjects(soft)).to.not.include('Private Key Object');
  });

  it('a missing token is refused before anything is written (the other refusals: pkcs11-flags and token-signer tests)', async () => {
    const noToken = await box.run(['gen', 'secrets', '--pkcs11-module', soft.module, '--pkcs11-token', 'other', '--pkcs11-pin-file', soft.pinFile], env());
    expect(noToken.code).to.equal(1);
    expect(noToken.stderr).to.include('PKCS#11 token "other"').and.include('no token with this label (present: "cluster-cas")').and.include('softhsm2-util --init-token');
    expect(box.files()).to.deep.equal([]);
  });

  it('gen config and config new with the bundle sign the talosconfig client certificate in the token; the configs hold only URIs', async () => {
    expect((await box.run(['gen', 'secrets', ...flags()], env())).code).to.equal(0);
    const bundle = validateSecretsBundle(parseSecretsBundle(readFileSync(box.path('secrets.yaml'), 'utf8')));
    const gen = await box.run(['gen', 'config', 'c1', 'https://10.5.0.2:6443', '--with-secrets', 'secrets.yaml', '-o', 'out', ...flags()], env());
    expect(gen.code, gen.stderr).to.equal(0);
    const controlplane = readFileSync(box.path('out', 'controlplane.yaml'), 'utf8');
    expect(controlplane).to.include(`key: ${bundle.certs.os.key}\n`).and.include(`key: ${bundle.certs.k8s.key}\n`);
    const fresh = await box.run(['config', 'new', 'client', '--with-secrets', 'out/controlplane.yaml', '--roles', 'os:reader', ...flags()], env());
    expect(fresh.code, fresh.stderr).to.equal(0);
    for (const file of ['out/talosconfig', 'client']) {
      const [name, context] = Object.entries(parseTalosconfig(readFileSync(box.path(file), 'utf8')).contexts)[0];
      const client = contextCredentials(name, context);
      const verdict = verifyStrict(bundle.certs.os.crt, client.crtPem, 'sslclient');
      expect(verdict.ok, `${file}: ${verdict.out}`).to.equal(true);
    }
    const without = await box.run(['config', 'new', 'nope', '--with-secrets', 'secrets.yaml'], env());
    expect(without.code).to.equal(1);
    expect(without.stderr).to.include('certs.os.key: the CA key is in a PKCS#11 token (pkcs11:token=cluster-cas;').and.include('give --pkcs11-module, --pkcs11-token and --pkcs11-pin-file');
    expect(box.files()).to.not.include('nope');
  });

  it('--pkcs11-import moves the kubeadm CA keys into the token: no byte of them in the bundle, and the token signs for them', async () => {
    const r = await box.run(['gen', 'secrets', '--from-kubernetes-pki', fixturePath('kubernetes-pki'), '--pkcs11-import', ...flags()], env());
    expect(r.code, r.stderr).to.equal(0);
    const text = readFileSync(box.path('secrets.yaml'), 'utf8');
    const bundle = validateSecretsBundle(parseSecretsBundle(text));
    const listing = listTokenObjects(soft);
    const imported = { k8s: ['ca', 'trustplane kubernetes CA'], etcd: ['etcd/ca', 'trustplane etcd CA'], k8sAggregator: ['front-proxy-ca', 'trustplane aggregator CA'] } as const;
    const decoded = Buffer.from(text.replace(/\s/g, ''), 'base64');
    for (const [ca, [file, label]] of Object.entries(imported) as [keyof typeof imported, (typeof imported)[keyof typeof imported]][]) {
      expect(bundle.certs[ca].crt).to.equal(readFixture('kubernetes-pki', `${file}.crt`));
      expect(parsePkcs11Uri(bundle.certs[ca].key)).to.include({ token: 'cluster-cas', object: label });
      // imported: sensitive and not extractable from now on, but the token does not claim it was always so
      expect(privateKeyAccess(listing, label)).to.include('sensitive').and.not.include('extractable');
      const jwk = createPrivateKey(readFixture('kubernetes-pki', `${file}.key`)).export({ format: 'jwk' });
      for (const part of [jwk.d, jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi]) {
        const bytes = Buffer.from(part ?? '', 'base64url');
        for (const form of [bytes.toString('base64'), bytes.toString('hex'), part ?? '']) expect(text.includes(form) || decoded.toString('latin1').includes(form), `${ca} key material`).to.equal(false);
        expect(Buffer.from(text, 'latin1').includes(bytes) || decoded.includes(bytes), `${ca} key bytes`).to.equal(false);
      }
    }
    expect(text).to.not.include('RSA PRIVATE KEY');
    const token = openToken({ module: soft.module, token: soft.label, pinFile: soft.pinFile });
    try {
      const k8s = signingCaOf(bundle.certs.k8s, token, 'certs.k8s');
      const leaf = await issueCertificateAsync(k8s, 'kube-apiserver', { publicKey: sharedKey('ecdsa').publicKey, commonName: 'kube-apiserver', dnsNames: ['kubernetes'] });
      const verdict = verifyStrict(bundle.certs.k8s.crt, leaf.certPem, 'sslserver');
      expect(verdict.ok, verdict.out).to.equal(true);
    } finally {
      token.close();
    }
  });

  it('--pkcs11-import without --from-kubernetes-pki, or without a token, is refused and writes nothing', async () => {
    const alone = await box.run(['gen', 'secrets', '--pkcs11-import', ...flags()], env());
    expect(alone.stderr).to.equal('error: --pkcs11-import: moves the CA keys of --from-kubernetes-pki into the token; give --from-kubernetes-pki DIR too\n');
    const noToken = await box.run(['gen', 'secrets', '--from-kubernetes-pki', fixturePath('kubernetes-pki'), '--pkcs11-import'], env());
    expect(noToken.stderr).to.include('--pkcs11-import: needs the token: give --pkcs11-module, --pkcs11-token and --pkcs11-pin-file');
    for (const r of [alone, noToken]) expect(r.code).to.equal(1);
    expect(box.files()).to.deep.equal([]);
    expect(listTokenObjects(soft)).to.not.include('Key Object');
  });
});
