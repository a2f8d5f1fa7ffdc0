import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { contextCredentials, parseMachineConfig, parseSecretsBundle, parseTalosconfig, validateSecretsBundle } from '../../src/config/index.js';
import { opensslFiles, opensslKeyPem, x509Text } from '../pki/openssl.js';
import { fixturePath, readFixture } from '../config/support/talos-fixtures.js';
import { Sandbox } from '../config/support/run-trustctl.js';

describe('trustctl gen secrets', () => {
  let box: Sandbox;
  beforeEach(() => (box = new Sandbox()));
  afterEach(() => box.remove());

  it('writes a valid secrets.yaml with mode 0600 and stays quiet when not on a terminal', async () => {
    const r = await box.run(['gen', 'secrets']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.equal('');
    expect(box.mode('secrets.yaml')).to.equal(0o600);
    const bundle = validateSecretsBundle(parseSecretsBundle(readFileSync(box.path('secrets.yaml'), 'utf8')));
    expect(new X509Certificate(bundle.certs.os.crt).publicKey.asymmetricKeyType).to.equal('ec');
  });

  it('refuses to overwrite an existing file without --force and leaves it untouched', async () => {
    writeFileSync(box.path('secrets.yaml'), 'keep me');
    const r = await box.run(['gen', 'secrets']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal('error: file "secrets.yaml" already exists, use --force to overwrite\n');
    expect(readFileSync(box.path('secrets.yaml'), 'utf8')).to.equal('keep me');
    expect(box.files()).to.deep.equal(['secrets.yaml']);

    const forced = await box.run(['gen', 'secrets', '--force']);
    expect(forced.code, forced.stderr).to.equal(0);
    expect(readFileSync(box.path('secrets.yaml'), 'utf8')).to.match(/^cluster:\n {4}id: /);
  });

  it('prints the bundle to stdout with -o - and writes no file', async () => {
    const r = await box.run(['gen', 'secrets', '-o', '-', '--ca-algorithm', 'ed25519']);
    expect(r.code, r.stderr).to.equal(0);
    expect(box.files()).to.deep.equal([]);
    const bundle = validateSecretsBundle(parseSecretsBundle(r.stdout));
    expect(bundle.certs.os.key).to.match(/^-----BEGIN ED25519 PRIVATE KEY-----/);
  });

  it('rejects an unknown --ca-algorithm, naming the flag, and writes nothing', async () => {
    const r = await box.run(['gen', 'secrets', '--ca-algorithm', 'dsa']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain("option '--ca-algorithm <alg>' argument 'dsa' is invalid");
    expect(box.files()).to.deep.equal([]);
  });

  it('imports a kubeadm PKI directory with --from-kubernetes-pki', async () => {
    const r = await box.run(['gen', 'secrets', '--from-kubernetes-pki', fixturePath('kubernetes-pki'), '-o', 'imported.yaml']);
    expect(r.code, r.stderr).to.equal(0);
    const bundle = validateSecretsBundle(parseSecretsBundle(readFileSync(box.path('imported.yaml'), 'utf8')));
    expect(bundle.certs.k8s.crt).to.equal(readFixture('kubernetes-pki', 'ca.crt'));
    expect(bundle.certs.etcd.key).to.equal(readFixture('kubernetes-pki', 'etcd', 'ca.key'));
    expect(bundle.certs.k8sAggregator.crt).to.equal(readFixture('kubernetes-pki', 'front-proxy-ca.crt'));
    expect(bundle.certs.k8sServiceAccount.key).to.equal(readFixture('kubernetes-pki', 'sa.key'));
  });

  it('says "<dir>" is not a directory and writes nothing', async () => {
    const file = fixturePath('kubernetes-pki', 'sa.key');
    const r = await box.run(['gen', 'secrets', '--from-kubernetes-pki', file]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal(`error: "${file}" is not a directory\n`);
    expect(box.files()).to.deep.equal([]);
  });
});

describe('trustctl gen config', () => {
  let box: Sandbox;
  beforeEach(() => (box = new Sandbox()));
  afterEach(() => box.remove());
  const secrets = fixturePath('secrets', 'secrets.yaml');

  it('writes controlplane.yaml, worker.yaml and talosconfig (0600) from a Talos bundle', async () => {
    const r = await box.run(['gen', 'config', 'prod', 'https://10.5.0.2:6443', '--with-secrets', secrets, '-o', 'out']);
    expect(r.code, r.stderr).to.equal(0);
    expect(box.files().sort()).to.deep.equal(['out/controlplane.yaml', 'out/talosconfig', 'out/worker.yaml']);
    for (const f of ['controlplane.yaml', 'worker.yaml', 'talosconfig']) expect(box.mode('out', f), f).to.equal(0o600);
    expect(box.mode('out')).to.equal(0o700);

    const bundle = validateSecretsBundle(parseSecretsBundle(readFixture('secrets', 'secrets.yaml')));
    const cp = parseMachineConfig(readFileSync(box.path('out', 'controlplane.yaml'), 'utf8'));
    expect(cp.osCA).to.deep.equal(bundle.certs.os);
    expect(cp.token).to.equal(bundle.trustdInfo.token);
    expect(cp.etcdCA).to.deep.equal(bundle.certs.etcd);
    expect(cp.clusterName).to.equal('prod');
    expect(cp.controlPlaneEndpoint).to.equal('https://10.5.0.2:6443');
    const worker = parseAllDocuments(readFileSync(box.path('out', 'worker.yaml'), 'utf8'))[0].toJS() as { machine: { ca: { key: string } }; cluster: object };
    expect(worker.machine.ca.key).to.equal('');
    expect(worker.cluster).to.not.have.any.keys('etcd', 'aggregatorCA', 'serviceAccount');
  });

  it("issues an os:admin client certificate that chains to the bundle's Ed25519 OS CA under openssl -x509_strict -purpose sslclient", async () => {
    const r = await box.run(['gen', 'config', 'prod', 'https://10.5.0.2:6443', '--with-secrets', secrets, '-o', 'out']);
    expect(r.code, r.stderr).to.equal(0);
    const talosconfig = parseTalosconfig(readFileSync(box.path('out', 'talosconfig'), 'utf8'));
    expect(talosconfig.context).to.equal('prod');
    expect(talosconfig.contexts.prod.endpoints).to.deep.equal(['10.5.0.2']);
    const { caPem, crtPem, keyPem } = contextCredentials('prod', talosconfig.contexts.prod);
    const bundle = validateSecretsBundle(parseSecretsBundle(readFixture('secrets', 'secrets.yaml')));
    expect(caPem).to.equal(bundle.certs.os.crt);

    const verify = opensslFiles(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', '{ca.pem}', '{client.pem}'], { 'ca.pem': caPem, 'client.pem': crtPem });
    expect(verify.ok, verify.out).to.equal(true);
    const text = x509Text(crtPem);
    expect(text).to.match(/Subject: O ?= ?os:admin/);
    expect(text).to.match(/Extended Key Usage: *\n *TLS Web Client Authentication\n/);
    expect(text).to.match(/ED25519/);
    // the key in the talosconfig is the certificate's key
    const keyCheck = opensslFiles(['pkey', '-in', '{key.pem}', '-pubout'], { 'key.pem': opensslKeyPem(keyPem) });
    expect(keyCheck.out).to.equal(new X509Certificate(crtPem).publicKey.export({ type: 'spki', format: 'pem' }));
  });

  it('writes only the requested --output-types', async () => {
    const r = await box.run(['gen', 'config', 'prod', 'https://cp.example.com:6443', '--with-secrets', secrets, '--output-types', 'talosconfig']);
    expect(r.code, r.stderr).to.equal(0);
    expect(box.files()).to.deep.equal(['talosconfig']);
    expect(parseTalosconfig(readFileSync(box.path('talosconfig'), 'utf8')).contexts.prod.endpoints).to.deep.equal(['cp.example.com']);
  });

  it('writes nothing when one of the outputs already exists', async () => {
    mkdirSync(box.path('out'));
    writeFileSync(box.path('out', 'worker.yaml'), 'old');
    const r = await box.run(['gen', 'config', 'prod', 'https://10.5.0.2:6443', '--with-secrets', secrets, '-o', 'out']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal(`error: file "out/worker.yaml" already exists, use --force to overwrite\n`);
    expect(box.files()).to.deep.equal(['out/worker.yaml']);
  });

  it('lists every problem of an invalid bundle and writes nothing', async () => {
    const r = await box.run(['gen', 'config', 'prod', 'https://10.5.0.2:6443', '--with-secrets', fixturePath('secrets', 'invalid-secrets.yaml')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('is invalid: 6 errors occurred:\n\t* cluster.secret is required\n');
    expect(r.stderr).to.contain('\t* certs.os is invalid: unsupported key type: "CERTIFICATE"');
    expect(box.files()).to.deep.equal([]);
  });

  it('rejects an endpoint that is not an https URL, saying what it expected', async () => {
    const r = await box.run(['gen', 'config', 'prod', '10.5.0.2:6443', '--with-secrets', secrets]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal('error: <endpoint>: expected an https:// URL, got "10.5.0.2:6443" (did you mean "https://10.5.0.2:6443"?)\n');
    expect(box.files()).to.deep.equal([]);
  });

  it('rejects an unknown output type and a bad SAN, naming the flag', async () => {
    const types = await box.run(['gen', 'config', 'prod', 'https://10.5.0.2:6443', '--with-secrets', secrets, '--output-types', 'controlplane,kubeconfig']);
    expect(types.code).to.equal(1);
    expect(types.stderr).to.equal('error: --output-types: unknown type "kubeconfig" (expected one or more of controlplane, worker, talosconfig)\n');
    const sans = await box.run(['gen', 'config', 'prod', 'https://10.5.0.2:6443', '--with-secrets', secrets, '--additional-sans', '10.0.0.1,10.0.0.300']);
    expect(sans.code).to.equal(1);
    expect(sans.stderr).to.equal('error: --additional-sans[1]: expected an IP address or DNS name, got "10.0.0.300"\n');
    expect(box.files()).to.deep.equal([]);
  });

  it('generates fresh secrets when none are given', async () => {
    const r = await box.run(['gen', 'config', 'fresh', 'https://10.5.0.2:6443']);
    expect(r.code, r.stderr).to.equal(0);
    const cp = parseMachineConfig(readFileSync(box.path('controlplane.yaml'), 'utf8'));
    const worker = parseMachineConfig(readFileSync(box.path('worker.yaml'), 'utf8'));
    expect(worker.osCA.crt).to.equal(cp.osCA.crt);
    expect(worker.token).to.equal(cp.token);
  });
});
