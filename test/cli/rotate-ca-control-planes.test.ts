// `trustctl rotate-ca --kubernetes --etcd --aggregator` across three control planes and a worker, each a `trustctl
// serve` process: no apid call fails, and every control plane accepts every other one's Kubernetes client, etcd peer and
// front-proxy client certificate at every moment (real TLS handshakes with what each node holds, read over apid),
// while the CAs change under them.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { fixtureBundle } from '../controllers/node-harness.js';
import { NOT_ISSUED_BY, verifyPlain, verifyStrict } from '../pki/openssl.js';
import type { CARotationSpec, IssuedCertificatesSpec } from '../../src/resources/index.js';
import { OLD_OS_CA, RotationCluster, credentials } from '../server/rotation-cluster.js';
import { PEER_RULES, newTally, peerView, probePeers } from '../server/peer-probe.js';
import type { PeerCA } from '../server/peer-probe.js';
import { pacedRounds } from '../server/paced-rounds.js';

const ROTATED: PeerCA[] = ['kubernetes', 'etcd', 'aggregator'];

describe('trustctl rotate-ca --kubernetes --etcd --aggregator across three control planes and a worker (trustctl serve child processes)', function () {
  this.timeout(150_000);
  let cluster: RotationCluster;
  before(async () => {
    cluster = await RotationCluster.start(1, 3);
  });
  after(async () => cluster?.destroy());

  it('rotates the three CAs with no failed apid call and every control plane accepting every other one throughout; openssl verifies the new leaves', async () => {
    const admin = await credentials(OLD_OS_CA, [OLD_OS_CA.crt]);
    const cps = cluster.controlPlanes;
    const worker = cluster.members.find((m) => m.role === 'worker')!;
    const read = (m: (typeof cps)[number]) => cluster.reader(m, admin);
    const nodes = cps.map((m) => ({ name: m.name, read: read(m) }));
    for (const ca of ROTATED) await cluster.until(`every control plane holds its ${ca} leaves`, async () => (await Promise.all(cps.map((m) => peerView(ca, read(m))))).every(Boolean));

    const failures: string[] = [];
    const peers = { kubernetes: newTally(), etcd: newTally(), aggregator: newTally() };
    let calls = 0;
    let stop = false;
    const prober = pacedRounds(
      () => stop,
      async () => {
        for (const m of cluster.members) {
          const answer = await cluster.call(m, admin, 'GET', '/v1/version');
          calls++;
          if (answer.error !== undefined) failures.push(`${m.name} apid: ${answer.error}`);
        }
        for (const ca of ROTATED) await probePeers(ca, nodes, peers[ca]);
      },
    );

    const r = await cluster.box.run(['-e', cluster.address(cps[0]), 'rotate-ca', '--kubernetes', '--etcd', '--aggregator', '--dry-run=false', '--control-plane-nodes', cps.map((m) => cluster.address(m)).join(','), '--worker-nodes', cluster.address(worker)]);
    stop = true;
    await prober;
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('> '));
    for (const stage of [/^> Added the new CA to cluster\.acceptedCAs/, /^> Removed the old CA from cluster\.acceptedCAs$/, /^> Kubernetes API CA rotation done/, /^> Added the new CA to ExtraAcceptedCAs\/etcd on every control plane \(workers hold no etcd CA\)$/, /^> Made the new CA the issuing CA \(cluster\.etcd\.ca\)/, /^> Removed the old CA from ExtraAcceptedCAs\/etcd/, /^> etcd CA rotation done/, /^> Made the new CA the issuing CA \(cluster\.aggregatorCA\)/, /^> aggregator \(front-proxy\) CA rotation done/])
      expect(lines.some((l) => stage.test(l)), `${stage} in\n${r.stdout}`).to.equal(true);

    expect([...failures, ...ROTATED.flatMap((ca) => peers[ca].failures)]).to.deep.equal([]);
    expect(calls).to.be.greaterThan(0);
    for (const ca of ROTATED) expect(peers[ca].handshakes, ca).to.be.greaterThan(0);

    const bundle = fixtureBundle();
    const oldCrt: Record<PeerCA, string> = { kubernetes: bundle.certs.k8s.crt, etcd: bundle.certs.etcd.crt, aggregator: bundle.certs.k8sAggregator.crt };
    for (const ca of ROTATED) {
      const rotation = (await read(cps[0])('CARotations', ca)) as CARotationSpec;
      expect(rotation.phase, rotation.lastError).to.equal('Done');
      expect(rotation.nodes.map((n) => [n.address, n.role, n.phase])).to.deep.equal(cluster.members.map((m) => [cluster.address(m), m.role, 'Done']));
      for (const m of cps) {
        const view = (await peerView(ca, read(m)))!;
        expect(new X509Certificate(view.issuing).fingerprint256, `${m.name} ${ca}`).to.equal(rotation.newCA.fingerprint);
        expect(view.accepted.map((p) => p.trim()), `${m.name} ${ca}`).to.deep.equal([view.issuing.trim()]);
        // The overlap is gone (the Kubernetes CA keeps its in cluster.acceptedCAs, checked just above).
        if (ca !== 'kubernetes') expect((await cluster.call(m, admin, 'GET', `/v1/resources/ExtraAcceptedCAs/${ca}`)).status, `${m.name} ${ca}`).to.equal(404);
        const leaves = Object.entries(((await read(m)(...PEER_RULES[ca].leaves)) as IssuedCertificatesSpec).certificates).filter(([, c]) => c.issuer === ca);
        expect(leaves.length).to.be.greaterThan(0);
        for (const [name, c] of leaves) {
          expect(verifyStrict(view.issuing, c.crt).ok, `${m.name} ${name} against the new ${ca} CA`).to.equal(true);
          expect(verifyPlain(oldCrt[ca], c.crt).out, `${m.name} ${name} against the old ${ca} CA`).to.match(NOT_ISSUED_BY);
        }
      }
    }
  });
});
