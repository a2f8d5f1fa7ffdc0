// The etcd and aggregator CAs rotated across three control planes and a worker (in-process nodes, real SQLite files,
// real apid and trustd on 127.0.0.1). Talos's config has no accepted list for these CAs, so the overlap goes to each
// control plane's ExtraAcceptedCAs; what must hold is that the control planes keep accepting each other's leaves
// (etcd peers, the front-proxy client) at every moment, judged by real TLS handshakes.
import { expect } from 'chai';
import { generateSecretsBundle } from '../../src/config/index.js';
import type { PemCertAndKey, SecretsBundle } from '../../src/config/index.js';
import { createCA, encodePrivateKeyPem } from '../../src/pki/index.js';
import { AuditRecords, CARotationSecrets, CARotations, ROTATION_PHASES, EtcdSecrets, ExtraAcceptedCAs, KubernetesSecrets, MACHINE_CONFIG_ID, MachineConfigs } from '../../src/resources/index.js';
import type { AuditRecordSpec, CARotationSpec, ExtraAcceptedCAsSpec, IssuedCertificatesSpec } from '../../src/resources/index.js';
import type { Node } from '../../src/server/node.js';
import { callNode } from '../../src/server/rotation/node-client.js';
import type { NodeCredentials } from '../../src/server/rotation/node-client.js';
import { startRotationDriver } from '../../src/server/rotation/index.js';
import { NOT_ISSUED_BY, verifyPlain, verifyStrict } from '../pki/openssl.js';
import { LocalCluster } from './local-cluster.js';
import type { Member } from './local-cluster.js';
import { newTally, peerHandshake, peerView, probePeers } from './peer-probe.js';
import type { PeerCA, PeerView } from './peer-probe.js';
import { credentials } from './rotation-cluster.js';
import { pacedRounds } from './paced-rounds.js';

const never = () => new Promise<void>(() => undefined);
const pems = (list: readonly string[]) => list.map((p) => p.trim());
const same = (a: string, b: string) => a.trim() === b.trim();

/** The CA a rotation of `ca` replaces and its leaves on a node; the peer rules (PEER_RULES) say what peers exchange. */
interface Case {
  ca: PeerCA;
  old: (b: SecretsBundle) => PemCertAndKey;
  leaves: (node: Node) => Promise<[string, string][]>;
}

const leavesOf = async (node: Node, type: string, id: string, issuer: string): Promise<[string, string][]> =>
  Object.entries((await node.state.get<IssuedCertificatesSpec>({ namespace: 'secrets', type, id })).spec.certificates)
    .filter(([, c]) => c.issuer === issuer)
    .map(([name, c]) => [name, c.crt]);

const CASES: Case[] = [
  { ca: 'etcd', old: (b) => b.certs.etcd, leaves: (node) => leavesOf(node, EtcdSecrets.type, 'etcd', 'etcd') },
  { ca: 'aggregator', old: (b) => b.certs.k8sAggregator, leaves: (node) => leavesOf(node, KubernetesSecrets.type, 'k8s', 'aggregator') },
];

const reader = (node: Node) => async (type: string, id: string) => (await node.state.find({ namespace: 'secrets', type, id }))?.spec;
const view = async (ca: PeerCA, node: Node): Promise<PeerView> => (await peerView(ca, reader(node)))!;

describe('etcd and aggregator CA rotation across three control planes and a worker (in-process nodes, real apid and TLS)', function () {
  this.timeout(60_000);
  let cluster: LocalCluster;
  let admin: NodeCredentials;
  before(async () => {
    cluster = new LocalCluster(await generateSecretsBundle());
    for (const name of ['cp-1', 'cp-2', 'cp-3']) await cluster.add('controlplane', name);
    await cluster.add('worker', 'worker-1');
    admin = await credentials(cluster.bundle.certs.os, [cluster.bundle.certs.os.crt]);
  });
  after(async () => cluster?.destroy());

  for (const c of CASES) {
    it(`rotates the ${c.ca} CA with every control plane accepting every other's leaf throughout, and resumes after the driver dies mid-way`, async () => {
      const old = c.old(cluster.bundle);
      const made = await createCA(c.ca, { algorithm: 'ecdsa', now: new Date(Date.now() - 300_000) });
      const next: PemCertAndKey = { crt: made.certPem, key: encodePrivateKeyPem(made.key) };
      const cps = cluster.members.slice(0, 3);
      const [cp1, cp2] = cps;
      const worker = cluster.members[3];
      const configOf = async (m: Member) => (await m.node.state.get<{ yaml: string }>({ namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID })).spec.yaml;
      const workerConfigBefore = await configOf(worker);
      const oldLeaves = await c.leaves(cp1.node);
      expect(oldLeaves.length).to.be.greaterThan(0);
      for (const m of cps) expect(pems((await view(c.ca, m.node)).accepted), m.address).to.deep.equal(pems([old.crt]));

      // Throughout: an admin calls every node's apid, and every control plane meets every other one.
      const failures: string[] = [];
      const peers = newTally();
      let calls = 0;
      let stop = false;
      const prober = pacedRounds(
        () => stop,
        async () => {
          for (const m of cluster.members) {
            const answer = await callNode(m.address, admin, 'GET', '/v1/version');
            calls++;
            if (answer.error !== undefined) failures.push(`${m.address} apid: ${answer.error}`);
          }
          await probePeers(c.ca, cps.map((m) => ({ name: m.address, read: reader(m.node) })), peers);
        },
      );

      const started = await callNode(cp1.address, admin, 'POST', '/v1/carotations', { ca: c.ca, newCA: next, controlPlanes: cps.map((m) => m.address), workers: [worker.address] });
      expect(started.status, started.error).to.equal(200);
      const rotationAt = { namespace: CARotations.namespace, type: CARotations.type, id: c.ca };
      const rotation = async () => (await cp1.node.state.get<CARotationSpec>(rotationAt)).spec;

      // The first driver dies as it is about to move cp-2 to NewCAIssuing: cp-1 issues from the new CA, cp-2 and cp-3
      // from the old one, and all three trust both.
      let died: () => void = () => undefined;
      const dead = new Promise<void>((resolve) => (died = resolve));
      const first = startRotationDriver({
        state: cp1.node.state,
        audit: cp1.node.audit,
        pollMs: 20,
        onStep: (_spec, step) => {
          if (step !== `${cp2.address} -> NewCAIssuing`) return;
          died();
          return never();
        },
      });
      await dead;
      void first.close();
      expect((await rotation()).phase).to.equal('NewCAAccepted');
      for (const m of cps) {
        const extra = (await m.node.state.get<ExtraAcceptedCAsSpec>({ namespace: ExtraAcceptedCAs.namespace, type: ExtraAcceptedCAs.type, id: c.ca })).spec;
        expect(pems(extra.crts), m.address).to.have.members(pems([old.crt, next.crt]));
        expect(pems((await view(c.ca, m.node)).accepted), m.address).to.have.members(pems([old.crt, next.crt]));
      }
      expect(same((await view(c.ca, cp1.node)).issuing, next.crt)).to.equal(true);
      expect(same((await view(c.ca, cp2.node)).issuing, old.crt)).to.equal(true);
      await until('cp-1 re-issues its leaf from the new CA', async () => verifyStrict(next.crt, (await view(c.ca, cp1.node)).client.crt).ok);
      // A new leaf meets old-CA peers both ways; a peer trusting only the old CA would refuse it (the probe can fail).
      const [atNew, atOld] = [await view(c.ca, cp1.node), await view(c.ca, cp2.node)];
      expect(await peerHandshake(c.ca, atNew, atOld)).to.equal(undefined);
      expect(await peerHandshake(c.ca, atOld, atNew)).to.equal(undefined);
      expect(await peerHandshake(c.ca, atNew, { ...atOld, accepted: [old.crt] })).to.match(/server refused the client certificate/);

      const second = startRotationDriver({ state: cp1.node.state, audit: cp1.node.audit, pollMs: 20 });
      try {
        await until('the rotation is Done', async () => (await rotation()).phase === 'Done');
      } finally {
        await second.close();
      }
      stop = true;
      await prober;
      expect([...failures, ...peers.failures]).to.deep.equal([]);
      expect(calls).to.be.greaterThan(0);
      expect(peers.crossed, 'handshakes between a new-CA and an old-CA control plane').to.be.greaterThan(0);

      const final = await rotation();
      expect(final.phase, final.lastError).to.equal('Done');
      // The start, by the admin through apid, then each phase the drivers reached, once, in order, across the driver that died.
      await cp1.node.audit.flushed();
      const phases = (await cp1.node.state.list<AuditRecordSpec>({ namespace: AuditRecords.namespace, type: AuditRecords.type }))
        .filter((r) => r.spec.action === 'ca-rotation-phase' && r.spec.details.ca === c.ca)
        .map((r) => `${r.spec.actor} ${String(r.spec.details.phase)}`);
      expect(phases).to.deep.equal([`CN=talosctl-client,O=os:admin ${ROTATION_PHASES[0]}`, ...ROTATION_PHASES.slice(1).map((p) => `rotation-driver ${p}`)]);
      expect(final.nodes.map((n) => n.phase)).to.deep.equal(['Done', 'Done', 'Done', 'Done']);
      expect(await cp1.node.state.find({ namespace: CARotationSecrets.namespace, type: CARotationSecrets.type, id: c.ca })).to.equal(undefined);
      for (const m of cps) {
        expect(await m.node.state.find({ namespace: ExtraAcceptedCAs.namespace, type: ExtraAcceptedCAs.type, id: c.ca }), m.address).to.equal(undefined);
        const after = await view(c.ca, m.node);
        expect(same(after.issuing, next.crt), m.address).to.equal(true);
        expect(pems(after.accepted), m.address).to.deep.equal(pems([next.crt]));
        const leaves = await c.leaves(m.node);
        expect(leaves.map(([name]) => name)).to.deep.equal(oldLeaves.map(([name]) => name));
        for (const [name, crt] of leaves) {
          expect(verifyStrict(next.crt, crt).ok, `${m.address} ${name} against the new CA`).to.equal(true);
          expect(verifyPlain(old.crt, crt).out, `${m.address} ${name} against the old CA`).to.match(NOT_ISSUED_BY);
        }
      }
      // A worker holds no etcd or aggregator CA: its machine config is left as it was, and it gets no extra CAs.
      expect(await configOf(worker)).to.equal(workerConfigBefore);
      expect(await worker.node.state.find({ namespace: ExtraAcceptedCAs.namespace, type: ExtraAcceptedCAs.type, id: c.ca })).to.equal(undefined);
    });
  }
});

/** Real time passes here (the driver polls nodes over apid); the mocha timeout bounds the wait. */
async function until(what: string, done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never happened: ${what}`);
}
