import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { generateSecretsBundle } from '../../src/config/index.js';
import { caFromPem, encodePrivateKeyPkcs8Pem, issueCertificateAndKey, parsePrivateKeyPem } from '../../src/pki/index.js';
import { EtcdSecrets } from '../../src/resources/index.js';
import type { IssuedCertificatesSpec } from '../../src/resources/index.js';
import { NodeHarness, fixtureBundle } from '../controllers/node-harness.js';
import { EtcdClient } from '../support/etcd-client.js';
import type { EtcdCallOptions } from '../support/etcd-client.js';
import { ETCD, EtcdMembers, clientFiles } from '../support/etcd-members.js';
import type { Pair } from '../support/etcd-members.js';
import { setUpNetns } from '../support/netns.js';
import type { NetnsSet } from '../support/netns.js';

const bundle = fixtureBundle();
const MEMBERS = 3;

/**
 * Three etcd 3.4 members on the certificates trustplane issued for three control planes, with client and peer
 * certificate authentication on the etcd CA, each in its own network namespace: etcd checks that a peer connects from
 * an address its certificate names, so the peer SANs are judged for real. Without `ip netns` (not root) the members
 * run on 127.0.0.11-13 instead, where that check still sees distinct addresses.
 */
describe('a three-member etcd cluster runs on trustplane-issued certificates', function () {
  this.timeout(60_000);
  const nodes: NodeHarness[] = [];
  let members: EtcdMembers | undefined;
  let netns: NetnsSet | undefined;
  let dir: string;
  let addresses: string[];
  let ca: string;
  let client: Pair;

  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  const pkcs8 = (key: string) => encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(key));
  const endpoints = () => addresses.map((a) => `https://${a}:2379`).join(',');

  function etcdctl(args: string[], creds: Pair = client, timeout = '5s'): { code: number; out: string } {
    const r = spawnSync('etcdctl', ['--endpoints', endpoints(), '--cacert', file('ca.crt', ca), '--cert', file('c.crt', creds.crt), '--key', file('c.key', creds.key), '--dial-timeout', '2s', '--command-timeout', timeout, ...args], {
      env: { PATH: process.env.PATH, ETCDCTL_API: '3' },
      encoding: 'utf8',
    });
    return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
  }

  before(async function () {
    if (!existsSync(ETCD) || spawnSync('etcdctl', ['version']).status !== 0) this.skip(); // CI installs etcd-server and etcd-client
    dir = mkdtempSync(join(tmpdir(), 'etcd-cluster-'));
    netns = setUpNetns(MEMBERS, 'te');
    addresses = netns?.addresses ?? ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
    const start = DateTime.utc();
    for (let i = 0; i < MEMBERS; i++) nodes.push(await NodeHarness.start({ bundle, start, addresses: [addresses[i]], hostname: `etcd-${i + 1}` }));
    ca = bundle.certs.etcd.crt;
    const sets = await Promise.all(nodes.map(async (h) => (await h.node.state.get<IssuedCertificatesSpec>({ namespace: 'secrets', type: EtcdSecrets.type, id: 'etcd' })).spec.certificates));
    const pair = (p: { crt: string; key: string }): Pair => ({ crt: p.crt, key: pkcs8(p.key) });
    client = pair(sets[0]['apiserver-etcd-client']);
    const files = sets.map((set) => ({ ca, server: pair(set.server), peer: pair(set.peer) }));
    members = await EtcdMembers.start(dir, netns, addresses, files, clientFiles(dir, ca, client));
  });

  after(async () => {
    await members?.stopAll();
    netns?.tearDown();
    for (const h of nodes) await h.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('forms a cluster of three over mutually authenticated peer links', () => {
    const list = etcdctl(['member', 'list', '-w', 'simple']);
    expect(list.code, list.out).to.equal(0);
    for (let i = 0; i < MEMBERS; i++) expect(list.out).to.include(`started, etcd-${i + 1}, https://${addresses[i]}:2380, https://${addresses[i]}:2379`);
    const health = etcdctl(['endpoint', 'health']);
    expect(health.out.match(/is healthy/g), health.out).to.have.length(MEMBERS);
  });

  it("puts and reads back with kube-apiserver's etcd client certificate, on every member", () => {
    const put = etcdctl(['put', '/registry/trustplane', 'issued']);
    expect(put.code, put.out).to.equal(0);
    for (const a of addresses) {
      const r = spawnSync('etcdctl', ['--endpoints', `https://${a}:2379`, '--cacert', join(dir, 'ca.crt'), '--cert', file('c.crt', client.crt), '--key', file('c.key', client.key), 'get', '--print-value-only', '/registry/trustplane'], {
        env: { PATH: process.env.PATH, ETCDCTL_API: '3' },
        encoding: 'utf8',
      });
      expect(r.stdout.trim(), `${a}: ${r.stderr}`).to.equal('issued');
    }
  });

  it('refuses a client certificate from another etcd CA, and writes nothing', async () => {
    const other = await generateSecretsBundle({ now: new Date() });
    const foreign = await issueCertificateAndKey(caFromPem(other.certs.etcd.crt, other.certs.etcd.key), 'apiserver-etcd-client', { now: new Date() });
    const r = etcdctl(['put', '/registry/intruder', 'x'], { crt: foreign.certPem, key: encodePrivateKeyPkcs8Pem(foreign.key) }, '1s');
    expect(r.code).not.to.equal(0);
    expect(r.out).to.match(/bad certificate|unknown authority|deadline exceeded|connection/i);
    const get = etcdctl(['get', '--print-value-only', '/registry/intruder']);
    expect(get.code, get.out).to.equal(0);
    expect(get.out).to.equal('');
  });

  // The etcd rotation test counts its writes with this client: a failure it reported as a success would hide one.
  it("the tests' Go client (etcd-client) reports every failed call as failed, and writes nothing then", async () => {
    const etcd = new EtcdClient();
    try {
      const other = await generateSecretsBundle({ now: new Date() });
      const foreign = await issueCertificateAndKey(caFromPem(other.certs.etcd.crt, other.certs.etcd.key), 'apiserver-etcd-client', { now: new Date() });
      const own = clientFiles(dir, ca, client);
      const call = (o: Partial<EtcdCallOptions>) => ({ endpoints: addresses.map((a) => `https://${a}:2379`), client: own, dialTimeoutMs: 2_000, commandTimeoutMs: 5_000, ...o });

      const put = await etcd.put('/registry/go-client', 'ok', call({}));
      expect(put, put.error).to.include({ ok: true });
      expect(etcdctl(['get', '--print-value-only', '/registry/go-client']).out.trim()).to.equal('ok');
      expect(await etcd.health(call({ endpoints: [`https://${addresses[1]}:2379`] }))).to.deep.equal({ ok: true, endpoint: `https://${addresses[1]}:2379` });

      const refused = await etcd.put('/registry/go-intruder', 'x', call({ client: clientFiles(dir, ca, { crt: foreign.certPem, key: encodePrivateKeyPkcs8Pem(foreign.key) }) }));
      expect(refused.ok).to.equal(false);
      expect(refused.error).to.match(/bad certificate|unknown certificate authority/);
      const untrusted = await etcd.put('/registry/go-intruder', 'x', call({ client: clientFiles(dir, other.certs.etcd.crt, client) }));
      expect(untrusted.ok).to.equal(false);
      expect(untrusted.error).to.match(/unknown authority/);
      const nobody = await etcd.put('/registry/go-intruder', 'x', call({ endpoints: ['https://127.0.0.1:1'], dialTimeoutMs: 500 }));
      expect(nobody.ok).to.equal(false);
      expect(nobody.error).to.match(/^https:\/\/127\.0\.0\.1:1: .*connection refused/);
      expect(await etcd.put('/registry/go-intruder', 'x', call({ endpoints: [] }))).to.deep.equal({ ok: false, error: 'no endpoints' });
      expect(etcdctl(['get', '--print-value-only', '/registry/go-intruder']).out).to.equal('');
    } finally {
      await etcd.close();
    }
  });
});
