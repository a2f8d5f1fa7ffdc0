import { expect } from 'chai';
import { TEST_PLACE } from '../support/captured-output.js';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { generateMachineConfig, generateSecretsBundle } from '../../src/config/index.js';
import type { MachineType, SecretsBundle } from '../../src/config/index.js';
import { loadSecretsBundle } from '../../src/cli/gen-config.js';
import { readBundleForRotation, withRotatedCAs, writeRotatedBundle } from '../../src/cli/rotated-bundle.js';
import { createCA, encodePrivateKeyPem } from '../../src/pki/index.js';
import { ApiCertificates, MACHINE_CONFIG_ID, MachineConfigs, TrustdCertificates, TrustdResponses } from '../../src/resources/index.js';
import type { IssuedCertificatesSpec, TrustdResponseSpec } from '../../src/resources/index.js';
import { ManualClock } from '../../src/runtime/manual-clock.js';
import type { State } from '../../src/runtime/state.js';
import { openNode } from '../../src/server/node.js';
import type { Node } from '../../src/server/node.js';
import { startTrustdClient } from '../../src/server/trustd-client/index.js';
import type { TrustdClient } from '../../src/server/trustd-client/index.js';
import { startTrustd } from '../../src/server/trustd/index.js';
import type { Trustd } from '../../src/server/trustd/index.js';
import { FIXTURE_SECRETS, fixtureBundle } from '../controllers/node-harness.js';
import { rejection } from '../support/caught.js';

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
// Made ten minutes back: the joining test's manual clock was set when this file loaded, and a CA made later with the
// system clock would not be valid yet on it (seen: a worker refusing trustd's chain as "not yet valid").
const newPair = async (profile: 'os' | 'kubernetes', algorithm: 'ed25519' | 'ecdsa') => {
  const ca = await createCA(profile, { algorithm, now: new Date(Date.now() - 600_000) });
  return { crt: ca.certPem, key: encodePrivateKeyPem(ca.key) };
};

describe('rotate-ca --with-secrets keeps the secrets bundle current', function () {
  this.timeout(60_000);
  let dir: string;
  let path: string;
  const original = readFileSync(FIXTURE_SECRETS, 'utf8');
  const bundle = fixtureBundle();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rotated-bundle-'));
    path = join(dir, 'secrets.yaml');
    copyFileSync(FIXTURE_SECRETS, path);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses, before anything changes, another cluster's bundle, an age-encrypted one and a missing one", async () => {
    const other = await generateSecretsBundle({ now: new Date() });
    expect((await rejection(readBundleForRotation(path, other.certs.os.crt))).message).to.match(/--with-secrets: secrets bundle ".*secrets\.yaml" is not this cluster's: its OS CA \(.*\) is not the CA of your talosconfig/);
    writeFileSync(path, '-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n');
    expect((await rejection(readBundleForRotation(path, bundle.certs.os.crt))).message).to.match(/is age-encrypted; rotate-ca rewrites the bundle in place, so decrypt it first/);
    expect((await rejection(readBundleForRotation(join(dir, 'none.yaml'), bundle.certs.os.crt))).message).to.match(/--with-secrets: cannot read ".*none\.yaml"/);
  });

  it('writes the rotated CAs in one step (0600), keeps every other secret, and the previous bundle as FILE.bak', async () => {
    const read = await readBundleForRotation(path, `${bundle.certs.os.crt}`);
    const os = await newPair('os', 'ed25519');
    const k8s = await newPair('kubernetes', 'ecdsa');
    const backup = await writeRotatedBundle(path, withRotatedCAs(read, { os, kubernetes: k8s }));
    expect(backup).to.equal(`${path}.bak`);
    expect(readFileSync(backup, 'utf8')).to.equal(original);
    for (const p of [path, backup]) expect(statSync(p).mode & 0o777, p).to.equal(0o600);
    const next = await loadSecretsBundle(path, {}, TEST_PLACE);
    expect(fingerprint(next.certs.os.crt)).to.equal(fingerprint(os.crt));
    expect(fingerprint(next.certs.k8s.crt)).to.equal(fingerprint(k8s.crt));
    expect(next.certs.etcd).to.deep.equal(bundle.certs.etcd);
    expect(next.certs.k8sAggregator).to.deep.equal(bundle.certs.k8sAggregator);
    expect({ ...next, certs: undefined, comment: undefined }).to.deep.equal({ ...bundle, certs: undefined, comment: undefined });
  });

  describe('joining the rotated cluster', () => {
    const clock = new ManualClock(DateTime.utc().startOf('second'));
    const nodes: Node[] = [];
    const clients: TrustdClient[] = [];
    const dirs: string[] = [];
    let trustd: Trustd;

    async function node(source: SecretsBundle, type: MachineType, address: string, hostname: string): Promise<Node> {
      const d = mkdtempSync(join(tmpdir(), `rotated-${hostname}-`));
      dirs.push(d);
      const n = await openNode({ stateDir: d, clock, addresses: { addresses: [address], hostname } });
      const config = generateMachineConfig(source, { type, clusterName: 'demo', endpoint: 'https://127.0.0.1:6443' });
      await n.state.create({ metadata: { namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID }, spec: { yaml: config.toYaml() } });
      await n.runtime.start();
      nodes.push(n);
      return n;
    }
    const find = <S>(state: State, type: string, id: string) => state.find<S>({ namespace: 'secrets', type, id });
    async function until(done: () => Promise<boolean>, what: string): Promise<void> {
      // real I/O on loopback (trustd and its clients) paces this, not the manual clock: bounded by wall time
      for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
        await clock.advance(0);
        for (const n of nodes) await n.runtime.settled();
        for (const c of clients) await c.settled();
        if (await done()) return;
        await new Promise((r) => setTimeout(r, 5));
      }
      const failures = await Promise.all(nodes.map(async (n) => JSON.stringify((await find<TrustdResponseSpec>(n.state, TrustdResponses.type, 'api'))?.spec.failure)));
      throw new Error(`never happened: ${what}; trustd client failures: ${failures.join('; ')}`);
    }

    after(async () => {
      for (const c of clients) await c.close();
      await trustd?.close();
      for (const n of nodes) await n.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it('admits a worker made from the refreshed bundle and refuses one made from the stale one, naming the cause', async () => {
      // The rotated cluster's end state: its control plane issues from the new OS and Kubernetes CAs only.
      const os = await newPair('os', 'ed25519');
      const k8s = await newPair('kubernetes', 'ecdsa');
      await writeRotatedBundle(path, withRotatedCAs(await readBundleForRotation(path, bundle.certs.os.crt), { os, kubernetes: k8s }));
      const refreshed = await loadSecretsBundle(path, {}, TEST_PLACE);
      const stale = await loadSecretsBundle(`${path}.bak`, {}, TEST_PLACE);
      const cp = await node(refreshed, 'controlplane', '10.5.0.2', 'cp-1');
      await until(async () => (await find(cp.state, TrustdCertificates.type, 'trustd')) !== undefined, 'trustd certificate');
      trustd = await startTrustd({ state: cp.state, host: '127.0.0.1', port: 0, clock, rateLimit: false });
      const fresh = await node(refreshed, 'worker', '10.5.0.3', 'fresh');
      const old = await node(stale, 'worker', '10.5.0.4', 'old');
      for (const w of [fresh, old]) clients.push(startTrustdClient({ state: w.state, endpoints: [`127.0.0.1:${trustd.port}`], clock, random: () => 0.5 }));

      await until(async () => (await find<IssuedCertificatesSpec>(fresh.state, ApiCertificates.type, 'api'))?.spec.certificates.server !== undefined, 'fresh worker joined');
      await until(async () => (await find<TrustdResponseSpec>(old.state, TrustdResponses.type, 'api'))?.spec.failure !== undefined, 'stale worker refused');
      const refused = (await find<TrustdResponseSpec>(old.state, TrustdResponses.type, 'api'))!.spec;
      expect(refused.response).to.equal(undefined);
      expect(refused.failure?.message).to.match(/trustd's certificate is not trusted: x509: certificate signed by unknown authority: machine\.ca and machine\.acceptedCAs of this node's config do not include the cluster's OS CA \(was the config made from a secrets bundle older than the last rotate-ca\? regenerate it from the current bundle\)/);
      const oldApi = (await find<IssuedCertificatesSpec>(old.state, ApiCertificates.type, 'api'))!.spec;
      expect(oldApi.certificates).to.deep.equal({});
    });
  });
});
