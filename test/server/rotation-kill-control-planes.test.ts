// The Kubernetes, etcd and aggregator CAs rotated in turn across two control planes and a worker (`trustctl serve` child
// processes) while the control plane driving each rotation is killed (SIGKILL) in every middle phase it is seen in and
// restarted: each rotation finishes, and whenever both control planes are up they accept each other's certificates.
import { expect } from 'chai';
import { createCA, encodePrivateKeyPem } from '../../src/pki/index.js';
import type { PemCertAndKey, SecretsBundle } from '../../src/config/index.js';
import { ROTATION_PHASES, phaseIndex } from '../../src/resources/ca-rotation.js';
import type { CARotationSpec, IssuedCertificatesSpec, RotationPhase } from '../../src/resources/index.js';
import { fixtureBundle } from '../controllers/node-harness.js';
import { NOT_ISSUED_BY, verifyPlain, verifyStrict } from '../pki/openssl.js';
import { PEER_RULES, newTally, peerView, probePeers } from './peer-probe.js';
import type { PeerCA } from './peer-probe.js';
import { OLD_OS_CA, RotationCluster, credentials } from './rotation-cluster.js';
import { pacedRounds } from './paced-rounds.js';

const at = (phase: RotationPhase | undefined) => (phase ? phaseIndex(phase) : -1);

const OLD: Record<PeerCA, (b: SecretsBundle) => string> = { kubernetes: (b) => b.certs.k8s.crt, etcd: (b) => b.certs.etcd.crt, aggregator: (b) => b.certs.k8sAggregator.crt };

describe('CA rotation across two control planes when the driving one is killed (SIGKILL) in each middle phase (trustctl serve child processes)', function () {
  this.timeout(120_000);
  let cluster: RotationCluster;
  before(async () => {
    cluster = await RotationCluster.start(1, 2);
  });
  after(async () => cluster?.destroy());

  for (const ca of Object.keys(OLD) as PeerCA[]) {
    it(`continues a rotation of the ${ca} CA from the recorded phase after each restart and finishes; the control planes accept each other whenever both are up`, async () => {
      const admin = await credentials(OLD_OS_CA, [OLD_OS_CA.crt]);
      const made = await createCA(ca, { algorithm: 'ecdsa', now: new Date(Date.now() - 300_000) });
      const next: PemCertAndKey = { crt: made.certPem, key: encodePrivateKeyPem(made.key) };
      const cps = cluster.controlPlanes;
      const [cp] = cps;
      const worker = cluster.members.find((m) => m.role === 'worker')!;
      const nodes = cps.map((m) => ({ name: m.name, read: cluster.reader(m, admin) }));
      const rotation = async () => (await cluster.reader(cp, admin)('CARotations', ca)) as CARotationSpec | undefined;

      const peers = newTally();
      let stop = false;
      const prober = pacedRounds(() => stop, () => probePeers(ca, nodes, peers));

      const started = await cluster.call(cp, admin, 'POST', '/v1/carotations', { ca, newCA: next, controlPlanes: cps.map((m) => cluster.address(m)), workers: [cluster.address(worker)] });
      expect(started.status, started.error).to.equal(200);
      // Restarted with the same --config (the CA from before the rotation) each time; the prober skips a pair while
      // one of them is down.
      const killedIn = await cluster.killInEachPhase(cp, async () => (await rotation())?.phase);
      stop = true;
      await prober;
      expect(killedIn.length).to.be.greaterThan(0);
      for (const phase of killedIn) expect(ROTATION_PHASES.slice(1, -1)).to.include(phase);
      expect(killedIn.map(at)).to.deep.equal([...killedIn.map(at)].sort((x, y) => x - y));
      expect(peers.failures).to.deep.equal([]);
      expect(peers.handshakes).to.be.greaterThan(0);

      const final = (await rotation())!;
      expect(final.nodes.map((n) => n.phase)).to.deep.equal(['Done', 'Done', 'Done']);
      expect(final.lastError).to.equal(undefined);
      const old = OLD[ca](fixtureBundle());
      for (const m of cps) {
        const view = (await peerView(ca, cluster.reader(m, admin)))!;
        expect(view.issuing.trim(), m.name).to.equal(next.crt.trim());
        expect(view.accepted.map((p) => p.trim()), m.name).to.deep.equal([next.crt.trim()]);
        // The overlap is gone (the Kubernetes CA keeps its in cluster.acceptedCAs, checked just above).
        if (ca !== 'kubernetes') expect((await cluster.call(m, admin, 'GET', `/v1/resources/ExtraAcceptedCAs/${ca}`)).status, m.name).to.equal(404);
        const leaves = ((await cluster.reader(m, admin)(...PEER_RULES[ca].leaves)) as IssuedCertificatesSpec).certificates;
        for (const [name, c] of Object.entries(leaves).filter(([, l]) => l.issuer === ca)) {
          expect(verifyStrict(next.crt, c.crt).ok, `${m.name} ${name} against the new CA`).to.equal(true);
          expect(verifyPlain(old, c.crt).out, `${m.name} ${name} against the old CA`).to.match(NOT_ISSUED_BY);
        }
      }
      expect(cp.process!.stderr).to.match(/rotation reached phase/);
    });
  }
});
