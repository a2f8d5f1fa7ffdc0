import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { DateTime } from 'luxon';
import { parse as parseYaml } from 'yaml';
import { formatKubeconfig } from '../../src/config/kubeconfig.js';
import { encodePrivateKeyPkcs8Pem, parsePrivateKeyPem } from '../../src/pki/index.js';
import { EtcdSecrets, KubeletCertificates, KubernetesSecrets } from '../../src/resources/index.js';
import type { IssuedCertificatesSpec } from '../../src/resources/index.js';
import { NodeHarness, fixtureBundle } from '../controllers/node-harness.js';

const bundle = fixtureBundle();
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

interface Kubeconfig {
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  'current-context': string;
}

/**
 * Checks client certificates as kube-apiserver's x509 authenticator does: the TLS layer requires one chaining to the
 * Kubernetes CA; the certificate must allow clientAuth; the user is the CN and the groups are the Organizations.
 */
function fakeApiserver(crt: string, key: string): Promise<Server> {
  const server = createServer({ cert: crt, key, ca: bundle.certs.k8s.crt, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerX509Certificate();
    const usages = peer?.keyUsage ?? [];
    if (!peer || !usages.includes(CLIENT_AUTH)) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"kind":"Status","status":"Failure","message":"Unauthorized","code":401}');
      return;
    }
    const subject = peer.subject.split('\n');
    const username = subject.find((p) => p.startsWith('CN='))?.slice(3) ?? '';
    const groups = subject.filter((p) => p.startsWith('O=')).map((p) => p.slice(2));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ path: req.url, username, groups }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('kubectl (client-go) loads every kubeconfig trustplane writes and authenticates with it', function () {
  this.timeout(60_000);
  let h: NodeHarness;
  let dir: string;
  let server: Server;
  let url: string;
  let k8s: IssuedCertificatesSpec;

  /** kubectl with a private HOME (no cache or config of the machine's user); async, so the in-test server can answer. */
  const kubectl = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('kubectl', args, { env: { PATH: process.env.PATH, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };

  before(async function () {
    if (spawnSync('kubectl', ['version', '--client']).status !== 0) this.skip(); // CI installs kubernetes-client
    dir = mkdtempSync(join(tmpdir(), 'kubectl-'));
    // real time: kubectl checks the server's certificate against the system clock
    h = await NodeHarness.start({ bundle, start: DateTime.utc(), addresses: ['127.0.0.1'], hostname: 'cp-1' });
    k8s = (await h.node.state.get<IssuedCertificatesSpec>({ namespace: 'secrets', type: KubernetesSecrets.type, id: 'k8s' })).spec;
    const apiserver = k8s.certificates['kube-apiserver'];
    server = await fakeApiserver(apiserver.crt, encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(apiserver.key)));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await h?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const EXPECTED: Record<string, { username: string; groups: string[] }> = {
    admin: { username: 'admin', groups: ['system:masters'] },
    'controller-manager': { username: 'system:kube-controller-manager', groups: [] },
    scheduler: { username: 'system:kube-scheduler', groups: [] },
  };

  it('config view --raw reads each back unchanged (cluster, CA, client certificate and key, context)', async () => {
    expect(Object.keys(k8s.kubeconfigs ?? {}).sort()).to.deep.equal(Object.keys(EXPECTED).sort());
    for (const [name, text] of Object.entries(k8s.kubeconfigs ?? {})) {
      const r = await kubectl(['config', 'view', '--raw', '--kubeconfig', write(`${name}.kubeconfig`, text)]);
      expect(r.code, `${name}: ${r.stderr}`).to.equal(0);
      const seen = parseYaml(r.stdout) as Kubeconfig;
      const wrote = parseYaml(text) as Kubeconfig;
      expect(seen.clusters, name).to.deep.equal(wrote.clusters);
      expect(seen.users, name).to.deep.equal(wrote.users);
      expect(seen['current-context'], name).to.equal(wrote['current-context']);
    }
  });

  it('authenticates with each against a server checking client certificates as kube-apiserver does: user from CN, groups from O', async () => {
    for (const [name, text] of Object.entries(k8s.kubeconfigs ?? {})) {
      const r = await kubectl(['--kubeconfig', write(`${name}.kubeconfig`, text), '--server', url, 'get', '--raw', '/whoami']);
      expect(r.code, `${name}: ${r.stderr}`).to.equal(0);
      expect(JSON.parse(r.stdout), name).to.deep.equal({ path: '/whoami', ...EXPECTED[name] });
    }
  });

  it('is refused with a certificate from another CA, and with a serverAuth-only one from the Kubernetes CA', async () => {
    const etcd = (await h.node.state.get<IssuedCertificatesSpec>({ namespace: 'secrets', type: EtcdSecrets.type, id: 'etcd' })).spec.certificates['apiserver-etcd-client'];
    const serving = (await h.node.state.get<IssuedCertificatesSpec>({ namespace: 'secrets', type: KubeletCertificates.type, id: 'kubelet' })).spec.certificates.server;
    const config = (certPem: string, keyPem: string) =>
      formatKubeconfig({ clusterName: 'demo', server: url, caPem: bundle.certs.k8s.crt, userName: 'x', certPem, keyPem: encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(keyPem)) });
    const foreign = await kubectl(['--kubeconfig', write('foreign.kubeconfig', config(etcd.crt, etcd.key)), 'get', '--raw', '/whoami']);
    expect(foreign.code).not.to.equal(0);
    expect(foreign.stdout).to.equal('');
    expect(foreign.stderr).to.match(/certificate|tls|EOF|connection reset/i);
    const serverOnly = await kubectl(['--kubeconfig', write('serving.kubeconfig', config(serving.crt, serving.key)), 'get', '--raw', '/whoami']);
    // OpenSSL refuses a client certificate without clientAuth in the handshake already, as Go's TLS stack does
    expect(serverOnly.code).not.to.equal(0);
    expect(serverOnly.stdout).to.equal('');
    expect(serverOnly.stderr).to.match(/EOF|certificate|connection reset|Unauthorized/i);
  });
});
