import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync, statSync } from 'node:fs';
import { contextCredentials, parseSecretsBundle, parseTalosconfig, selectContext, validateSecretsBundle } from '../../src/config/index.js';
import { FIXTURE_SECRETS } from '../controllers/node-harness.js';
import { createCA, encodePrivateKeyPem, encodePrivateKeyPkcs8Pem, isIssuedBy, parsePrivateKeyPem } from '../../src/pki/index.js';
import { NODE_RESOURCES } from '../../src/resources/index.js';
import type { CARotationSpec, EtcdRootSecretsSpec, IssuedCertificatesSpec, KubernetesRootSecretsSpec } from '../../src/resources/index.js';
import { verifyStrict } from '../pki/openssl.js';
import { OLD_OS_CA, RotationCluster, credentials } from '../server/rotation-cluster.js';
import type { NodeCredentials } from '../../src/server/rotation/node-client.js';

/** Every resource's version on every node, read over apid. */
async function versions(cluster: RotationCluster, creds: NodeCredentials): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of cluster.members) {
    for (const def of NODE_RESOURCES) {
      const answer = await cluster.call(m, creds, 'GET', `/v1/resources/${def.type}`);
      if (answer.error !== undefined) throw new Error(`${m.name} ${def.type}: ${answer.error}`);
      for (const r of answer.body as { metadata: { id: string; version: number } }[]) out[`${m.name} ${def.type}/${r.metadata.id}`] = r.metadata.version;
    }
  }
  return out;
}

describe('trustctl rotate-ca against trustctl serve (control plane + worker, child processes)', function () {
  this.timeout(90_000);
  let cluster: RotationCluster;
  let nodeArgs: string[];

  before(async () => {
    cluster = await RotationCluster.start(1);
    const [cp, worker] = cluster.addresses;
    nodeArgs = ['-e', cp, 'rotate-ca', '--control-plane-nodes', cp, '--worker-nodes', worker];
  });
  after(async () => cluster?.destroy());

  it('changes nothing in dry-run mode (the default) and prints the plan', async () => {
    const admin = await credentials(OLD_OS_CA, [OLD_OS_CA.crt]);
    // Settled first: the nodes' own controllers must not be mistaken for the command's writes.
    let before = await versions(cluster, admin);
    await cluster.until('the nodes are quiet', async () => {
      const now = await versions(cluster, admin);
      const quiet = JSON.stringify(now) === JSON.stringify(before);
      before = now;
      return quiet;
    });
    const r = await cluster.box.run(nodeArgs);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^> Dry-run mode enabled, no changes will be made to the cluster, re-run with `--dry-run=false` to apply the changes\.$/m);
    expect(r.stdout).to.include('> Talos API CA rotation on control plane(s)');
    expect(r.stdout).to.include('> Kubernetes API CA rotation');
    expect(r.stdout).to.include('>   the secrets bundle (secrets.yaml) still holds the old Talos API, Kubernetes API CA: it is now stale');
    expect(await versions(cluster, admin)).to.deep.equal(before);
  });

  it('plans --etcd and --aggregator in dry-run mode and changes nothing', async () => {
    const admin = await credentials(OLD_OS_CA, [OLD_OS_CA.crt]);
    const before = await versions(cluster, admin);
    const r = await cluster.box.run([...nodeArgs, '--etcd', '--aggregator']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('> etcd CA rotation on control plane(s)');
    expect(r.stdout).to.include('> aggregator (front-proxy) CA rotation on control plane(s)');
    expect(r.stdout).to.include('make the new CA issuing (cluster.etcd.ca)');
    expect(r.stdout).to.include('2. add the new CA to ExtraAcceptedCAs/etcd on every control plane (workers hold no etcd CA)');
    expect(r.stdout).to.include('3. verify every control plane trusts both CAs (no server of this CA runs here to connect to)');
    expect(r.stdout).to.include('note: without --etcd-endpoints nothing waits for the etcd members, which read their trusted CA files only at start-up');
    expect(r.stdout).to.not.include('Talos API CA rotation');
    expect(await versions(cluster, admin)).to.deep.equal(before);
  });

  it('plans an etcd rotation that waits for the etcd members (--etcd-endpoints, port 2379 by default), and refuses the flag without --etcd', async () => {
    const r = await cluster.box.run([...nodeArgs, '--etcd', '--etcd-endpoints', '10.5.0.2,10.5.0.3:12379']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('3. verify every control plane trusts both CAs, and wait until etcd at 10.5.0.2:2379, 10.5.0.3:12379 accepts a new-CA client (restart each etcd member, one at a time: etcd reads its trusted CA files only at start-up)');
    expect(r.stdout).to.include('6. remove the old CA from ExtraAcceptedCAs/etcd, and verify again (waiting until etcd refuses an old-CA client: restart each etcd member');
    expect(r.stdout).to.not.include('without --etcd-endpoints');
    const refused = await cluster.box.run([...nodeArgs, '--kubernetes', '--etcd-endpoints', '10.5.0.2']);
    expect(refused.code).to.not.equal(0);
    expect(refused.stderr).to.include('--etcd-endpoints: only an etcd CA rotation waits for etcd members; add --etcd or leave it out');
  });

  it('rotates the Talos, Kubernetes and etcd CAs, prints a > line per stage, and writes a talosconfig from the new OS CA', async () => {
    const output = cluster.box.path('new-talosconfig');
    const bundlePath = cluster.box.path('secrets.yaml');
    copyFileSync(FIXTURE_SECRETS, bundlePath);
    const watcher = cluster.box.start(['-e', cluster.addresses[0], 'get', 'carotation', '-w']);
    // The header comes with the first listing: from then on the watch sees every phase, Staged included.
    await watcher.until('the watch has listed', (w) => w.stdout.startsWith('NODE'));
    const r = await cluster.box.run([...nodeArgs, '--talos', '--kubernetes', '--etcd', '--dry-run=false', '-o', output, '--with-secrets', bundlePath]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('> '));
    // every stage is said once, even those that passed between two looks of the command
    expect(lines.filter((l) => l.startsWith('> Made the new CA the issuing CA')).length).to.equal(3);
    for (const stage of [/^> Starting Talos API CA rotation/, /^> New Talos API CA: subject O=talos, SHA-256 fingerprint /, /^> Added the new CA to machine\.acceptedCAs on every node \(control planes first, then workers\); apid sends the new CA cross-signed by the old one, so old talosconfigs work until the old CA is dropped; verified/, /^> Made the new CA the issuing CA \(machine\.ca\)/, /^> Every certificate re-issued/, /^> Removed the old CA from machine\.acceptedCAs/, /^> Talos API CA rotation done/, /^> Writing new talosconfig/, /^> Added the new CA to cluster\.acceptedCAs/, /^> Made the new CA the issuing CA \(cluster\.ca\)/, /^> Removed the old CA from cluster\.acceptedCAs$/, /^> Kubernetes API CA rotation done/, /^> New etcd CA: subject O=etcd/, /^> Made the new CA the issuing CA \(cluster\.etcd\.ca\)/, /^> etcd CA rotation done/])
      expect(lines.some((l) => stage.test(l)), `${stage} in\n${r.stdout}`).to.equal(true);

    expect(statSync(output).mode & 0o777).to.equal(0o600);
    const config = parseTalosconfig(readFileSync(output, 'utf8'));
    const creds = contextCredentials(config.context, selectContext(config).context);
    expect(new X509Certificate(creds.caPem).fingerprint256).to.not.equal(new X509Certificate(OLD_OS_CA.crt).fingerprint256);
    expect(verifyStrict(creds.caPem, creds.crtPem, 'sslclient').ok).to.equal(true);

    const [cp, worker] = cluster.addresses;
    const withNew = await cluster.box.run(['--talosconfig', output, '-e', cp, '-n', worker, 'version']);
    expect(withNew.code, withNew.stderr).to.equal(0);
    const withOld = await cluster.box.run(['-e', cp, 'version']);
    expect(withOld.code).to.not.equal(0);
    expect(withOld.stderr).to.contain(
      `failed to verify certificate: x509: certificate signed by unknown authority\n    the node's certificate does not chain to the CA in your talosconfig\n    fix: check you use the right talosconfig (\`trustctl config info\`); after a CA rotation use the talosconfig trustctl rotate-ca wrote\n    (endpoint ${cp})`,
    );

    // `get carotation -w` showed the rotation move through every phase (its connection predates the new CA).
    await watcher.until('the watch shows the Kubernetes rotation Done', (w) => /kubernetes\s+\d+\s+Done/.test(w.stdout));
    watcher.signal('SIGTERM');
    await watcher.exited;
    for (const phase of ['Staged', 'NewCAAccepted', 'NewCAIssuing', 'LeavesReissued', 'OldCADropped', 'Done']) expect(watcher.stdout).to.match(new RegExp(`CARotations\\s+os\\s+\\d+\\s+${phase}\\s`));

    // The Kubernetes leaves on the control plane now chain to the new Kubernetes CA (openssl judges).
    const newAdmin = { ca: creds.caPem, cert: creds.crtPem, key: encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(creds.keyPem)) };
    const rotation = (await cluster.call(cluster.controlPlane, newAdmin, 'GET', '/v1/resources/CARotations/kubernetes')).body as { spec: CARotationSpec };
    expect(rotation.spec.phase).to.equal('Done');
    const root = ((await cluster.call(cluster.controlPlane, newAdmin, 'GET', '/v1/resources/KubernetesRootSecrets/k8s')).body as { spec: KubernetesRootSecretsSpec }).spec;
    expect(new X509Certificate(root.ca.crt).fingerprint256).to.equal(rotation.spec.newCA.fingerprint);
    expect(root.acceptedCAs.map((p) => new X509Certificate(p).fingerprint256)).to.not.include(rotation.spec.oldCA.fingerprint);
    const k8s = ((await cluster.call(cluster.controlPlane, newAdmin, 'GET', '/v1/resources/KubernetesSecrets/k8s')).body as { spec: IssuedCertificatesSpec }).spec;
    const fromK8sCA = Object.values(k8s.certificates).filter((c) => c.issuer === 'kubernetes');
    expect(fromK8sCA.length).to.be.greaterThan(0);
    for (const c of fromK8sCA) expect(isIssuedBy(new X509Certificate(c.crt), new X509Certificate(root.ca.crt))).to.equal(true);

    // The etcd leaves chain to the new etcd CA, which alone is trusted now (openssl judges).
    const etcdRotation = ((await cluster.call(cluster.controlPlane, newAdmin, 'GET', '/v1/resources/CARotations/etcd')).body as { spec: CARotationSpec }).spec;
    expect(etcdRotation.phase).to.equal('Done');
    const etcdRoot = ((await cluster.call(cluster.controlPlane, newAdmin, 'GET', '/v1/resources/EtcdRootSecrets/etcd')).body as { spec: EtcdRootSecretsSpec }).spec;
    expect(new X509Certificate(etcdRoot.ca.crt).fingerprint256).to.equal(etcdRotation.newCA.fingerprint);
    expect(etcdRoot.acceptedCAs.map((p) => new X509Certificate(p).fingerprint256)).to.deep.equal([etcdRotation.newCA.fingerprint]);
    const etcd = ((await cluster.call(cluster.controlPlane, newAdmin, 'GET', '/v1/resources/EtcdSecrets/etcd')).body as { spec: IssuedCertificatesSpec }).spec;
    expect(Object.keys(etcd.certificates).length).to.be.greaterThan(0);
    for (const [name, c] of Object.entries(etcd.certificates)) expect(verifyStrict(etcdRoot.ca.crt, c.crt).ok, name).to.equal(true);

    // --with-secrets: the bundle now holds the three new CAs (gen config from it makes nodes that join), the old one is kept
    expect(lines).to.include(`> Wrote the new Talos API, Kubernetes API, etcd CAs into secrets bundle ${JSON.stringify(bundlePath)}; the previous bundle is kept as ${JSON.stringify(`${bundlePath}.bak`)}`);
    expect(readFileSync(`${bundlePath}.bak`, 'utf8')).to.equal(readFileSync(FIXTURE_SECRETS, 'utf8'));
    for (const p of [bundlePath, `${bundlePath}.bak`]) expect(statSync(p).mode & 0o777, p).to.equal(0o600);
    const refreshed = validateSecretsBundle(parseSecretsBundle(readFileSync(bundlePath, 'utf8')));
    const osRotation = ((await cluster.call(cluster.controlPlane, newAdmin, 'GET', '/v1/resources/CARotations/os')).body as { spec: CARotationSpec }).spec;
    expect(new X509Certificate(refreshed.certs.os.crt).fingerprint256).to.equal(osRotation.newCA.fingerprint);
    expect(new X509Certificate(refreshed.certs.k8s.crt).fingerprint256).to.equal(rotation.spec.newCA.fingerprint);
    expect(new X509Certificate(refreshed.certs.etcd.crt).fingerprint256).to.equal(etcdRotation.newCA.fingerprint);
  });
  it('reports a stalled rotation (a node that cannot be reached) in CARotation.lastError and SecurityStatus, refuses a second one, and a new rotate-ca run follows it', async () => {
    const output = cluster.box.path('new-talosconfig');
    const config = parseTalosconfig(readFileSync(output, 'utf8'));
    const creds = contextCredentials(config.context, selectContext(config).context);
    const admin = { ca: creds.caPem, cert: creds.crtPem, key: encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(creds.keyPem)) };
    const [cp] = cluster.addresses;
    const ca = await createCA('os', { algorithm: 'ed25519' });
    const request = { ca: 'os', newCA: { crt: ca.certPem, key: encodePrivateKeyPem(ca.key) }, controlPlanes: [cp], workers: ['127.0.0.1:1'] };
    expect((await cluster.call(cluster.controlPlane, admin, 'POST', '/v1/carotations', request)).status).to.equal(200);

    const rotation = async () => ((await cluster.call(cluster.controlPlane, admin, 'GET', '/v1/resources/CARotations/os')).body as { spec: CARotationSpec }).spec;
    await cluster.until('the rotation reports why it waits', async () => (await rotation()).lastError !== undefined);
    const stalled = await rotation();
    expect(stalled.phase).to.equal('Staged');
    expect(stalled.lastError).to.match(/^connectivity check after Staged: 127\.0\.0\.1:1 refused the old client certificate: .*ECONNREFUSED/);
    await cluster.until('SecurityStatus lists the rotation', async () => {
      const ss = (await cluster.call(cluster.controlPlane, admin, 'GET', '/v1/resources/SecurityStatuses/securitystatus')).body as { spec: { rotationInProgress: string[] } };
      return ss.spec.rotationInProgress.includes('os: Staged');
    });
    const again = await cluster.call(cluster.controlPlane, admin, 'POST', '/v1/carotations', request);
    expect(again.status).to.equal(409);
    expect(again.error).to.equal('a rotation of the os CA is in progress (phase Staged): wait for it to finish (trustctl get carotation -w)');

    const follower = cluster.box.start(['--talosconfig', output, ...nodeArgs, '--talos', '--dry-run=false', '-o', cluster.box.path('third-talosconfig')]);
    await follower.until('it shows the CA of the rotation in progress', (r) => r.stdout.includes(`SHA-256 fingerprint ${ca.cert.fingerprint256}`));
    expect(follower.stdout).to.include('> Resuming the Talos API CA rotation in progress\n');
    await follower.until('it shows the wait', (r) => r.stderr.includes('waiting: connectivity check after Staged: 127.0.0.1:1'));
    follower.signal('SIGTERM');
    await follower.exited;
  });
});
