import { expect } from 'chai';
import { generateSecretsBundle } from '../../src/config/index.js';
import type { PemCertAndKey, SecretsBundle } from '../../src/config/index.js';
import { createCA, encodePrivateKeyPem } from '../../src/pki/index.js';
import { CARotationSecrets, CARotations, EtcdRootSecrets, ROTATION_PHASES, rotationOverlapCAs, EtcdSecrets, KubernetesRootSecrets, KubernetesSecrets, MACHINE_CONFIG_ID, MachineConfigs } from '../../src/resources/index.js';
import type { CARotationSpec, RotationPhase, EtcdRootSecretsSpec, IssuedCertificatesSpec, KubernetesRootSecretsSpec } from '../../src/resources/index.js';
import type { Node } from '../../src/server/node.js';
import { callNode } from '../../src/server/rotation/node-client.js';
import { startRotationDriver } from '../../src/server/rotation/index.js';
import { caFieldsFor } from '../../src/server/rotation/rotation-plan.js';
import { verifyStrict } from '../pki/openssl.js';
import { LocalCluster } from './local-cluster.js';
import { credentials } from './rotation-cluster.js';

const never = () => new Promise<void>(() => undefined);
const pems = (list: readonly string[]) => list.map((p) => p.trim());

/** The CA a rotation of `ca` replaces, and what the control plane's root secrets say of it. */
interface Case {
  ca: 'etcd' | 'aggregator';
  old: (b: SecretsBundle) => PemCertAndKey;
  trust: (cp: Node) => Promise<{ issuing: string; accepted: string[] }>;
  leaves: (cp: Node) => Promise<[string, string][]>;
}

const etcdRoot = { namespace: EtcdRootSecrets.namespace, type: EtcdRootSecrets.type, id: 'etcd' };
const k8sRoot = { namespace: KubernetesRootSecrets.namespace, type: KubernetesRootSecrets.type, id: 'k8s' };
const leavesOf = async (cp: Node, type: string, id: string, issuer: string): Promise<[string, string][]> => {
  const spec = (await cp.state.get<IssuedCertificatesSpec>({ namespace: 'secrets', type, id })).spec;
  return Object.entries(spec.certificates)
    .filter(([, c]) => c.issuer === issuer)
    .map(([name, c]) => [name, c.crt]);
};

const CASES: Case[] = [
  {
    ca: 'etcd',
    old: (b) => b.certs.etcd,
    trust: async (cp) => {
      const spec = (await cp.state.get<EtcdRootSecretsSpec>(etcdRoot)).spec;
      return { issuing: spec.ca.crt, accepted: spec.acceptedCAs };
    },
    leaves: (cp) => leavesOf(cp, EtcdSecrets.type, 'etcd', 'etcd'),
  },
  {
    ca: 'aggregator',
    old: (b) => b.certs.k8sAggregator,
    trust: async (cp) => {
      const spec = (await cp.state.get<KubernetesRootSecretsSpec>(k8sRoot)).spec;
      return { issuing: spec.aggregatorCA.crt, accepted: spec.aggregatorAcceptedCAs };
    },
    leaves: (cp) => leavesOf(cp, KubernetesSecrets.type, 'k8s', 'aggregator'),
  },
];

for (const c of CASES) {
  describe(`${c.ca} CA rotation (in-process control plane and worker, driver killed in a middle phase)`, function () {
    this.timeout(40_000);
    let cluster: LocalCluster;
    before(async () => {
      cluster = new LocalCluster(await generateSecretsBundle());
      await cluster.add('controlplane', 'cp-1');
      await cluster.add('worker', 'worker-1');
    });
    after(async () => cluster?.destroy());

    it(`re-issues every ${c.ca} leaf from the new CA, trusting both CAs from NewCAAccepted until OldCADropped, and resumes after the driver dies mid-way`, async () => {
      const bundle = cluster.bundle;
      const old = c.old(bundle);
      const made = await createCA(c.ca, { algorithm: 'ecdsa', now: new Date(Date.now() - 300_000) });
      const next: PemCertAndKey = { crt: made.certPem, key: encodePrivateKeyPem(made.key) };
      const admin = await credentials(bundle.certs.os, [bundle.certs.os.crt]);
      const [cp, worker] = cluster.members;
      const workerConfigBefore = (await worker.node.state.get<{ yaml: string }>({ namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID })).spec.yaml;
      const before = await c.trust(cp.node);
      expect(pems(before.accepted)).to.deep.equal(pems([old.crt]));
      const oldLeaves = await c.leaves(cp.node);
      expect(oldLeaves.length).to.be.greaterThan(0);

      const started = await callNode(cp.address, admin, 'POST', '/v1/carotations', { ca: c.ca, newCA: next, controlPlanes: [cp.address], workers: [worker.address] });
      expect(started.status, started.error).to.equal(200);
      const rotationAt = { namespace: CARotations.namespace, type: CARotations.type, id: c.ca };
      const phase = async () => (await cp.node.state.get<CARotationSpec>(rotationAt)).spec.phase;

      // The first driver dies just before checking NewCAIssuing: the new CA issues, the old one is still trusted.
      let died: () => void = () => undefined;
      const dead = new Promise<void>((resolve) => (died = resolve));
      const first = startRotationDriver({
        state: cp.node.state,
        pollMs: 20,
        onStep: (_spec, step) => {
          if (step !== 'check NewCAIssuing') return;
          died();
          return never();
        },
      });
      await dead;
      void first.close();
      expect(await phase()).to.equal('NewCAAccepted');
      const middle = await c.trust(cp.node);
      expect(middle.issuing.trim()).to.equal(next.crt.trim());
      expect(pems(middle.accepted)).to.have.members(pems([next.crt, old.crt]));

      const second = startRotationDriver({ state: cp.node.state, pollMs: 20 });
      try {
        for (let i = 0; i < 300 && (await phase()) !== 'Done'; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        await second.close();
      }
      const final = (await cp.node.state.get<CARotationSpec>(rotationAt)).spec;
      expect(final.phase, final.lastError).to.equal('Done');
      expect(final.nodes.map((n) => n.phase)).to.deep.equal(['Done', 'Done']);
      expect(await cp.node.state.find({ namespace: CARotationSecrets.namespace, type: CARotationSecrets.type, id: c.ca })).to.equal(undefined);

      const after = await c.trust(cp.node);
      expect(after.issuing.trim()).to.equal(next.crt.trim());
      expect(pems(after.accepted)).to.deep.equal(pems([next.crt]));
      const leaves = await c.leaves(cp.node);
      expect(leaves.map(([name]) => name)).to.deep.equal(oldLeaves.map(([name]) => name));
      for (const [name, crt] of leaves) {
        expect(verifyStrict(next.crt, crt).ok, `${name} against the new CA`).to.equal(true);
        expect(verifyStrict(old.crt, crt).ok, `${name} against the old CA`).to.equal(false);
      }
      // A worker holds no etcd or aggregator CA: its machine config is left as it was.
      const workerConfigAfter = (await worker.node.state.get<{ yaml: string }>({ namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID })).spec.yaml;
      expect(workerConfigAfter).to.equal(workerConfigBefore);
    });
  });
}

describe('the etcd and aggregator overlap kept in the rotation (rotationOverlapCAs, caFieldsFor)', () => {
  const oldCA: PemCertAndKey = { crt: 'OLD CRT', key: 'OLD KEY' };
  const newCA: PemCertAndKey = { crt: 'NEW CRT', key: 'NEW KEY' };
  const rotation = (ca: CARotationSpec['ca'], phase: RotationPhase): CARotationSpec => ({
    ca,
    phase,
    nodes: [{ address: '10.5.0.2:50000', role: 'controlplane', phase }],
    newCA: { subject: 'O=etcd', fingerprint: 'AA', notAfter: '2036-01-01T00:00:00.000Z' },
    oldCA: { subject: 'O=etcd', fingerprint: 'BB' },
    started: '2026-01-01T00:00:00.000Z',
    updated: '2026-01-01T00:00:00.000Z',
  });
  const secrets = { oldCA, newCA };

  it('trusts the other CA while the driver works towards NewCAAccepted, NewCAIssuing and LeavesReissued, and not once LeavesReissued is recorded', () => {
    const window = ROTATION_PHASES.map((p) => [p, rotationOverlapCAs(rotation('etcd', p), secrets, p === 'Staged' || p === 'NewCAAccepted' ? oldCA.crt : newCA.crt)]);
    expect(window).to.deep.equal([
      ['Staged', [newCA.crt]],
      ['NewCAAccepted', [newCA.crt]],
      ['NewCAIssuing', [oldCA.crt]],
      ['LeavesReissued', []],
      ['OldCADropped', []],
      ['Done', []],
    ]);
  });

  it('adds nothing for CAs whose overlap is in the machine config, without the rotation secrets, or for an unrelated CA', () => {
    expect(rotationOverlapCAs(rotation('kubernetes', 'NewCAAccepted'), secrets, oldCA.crt)).to.deep.equal([]);
    expect(rotationOverlapCAs(rotation('aggregator', 'NewCAAccepted'), undefined, oldCA.crt)).to.deep.equal([]);
    expect(rotationOverlapCAs(undefined, secrets, oldCA.crt)).to.deep.equal([]);
    expect(rotationOverlapCAs(rotation('aggregator', 'NewCAAccepted'), secrets, 'ANOTHER CRT')).to.deep.equal([]);
  });

  it('changes only the issuing CA, at NewCAIssuing, keeps the key off nodes that had none, and leaves a config without the CA alone', () => {
    const cp = { ca: oldCA, accepted: [] };
    expect(caFieldsFor('etcd', 'NewCAAccepted', cp, oldCA, newCA)).to.deep.equal(cp);
    expect(caFieldsFor('etcd', 'NewCAIssuing', cp, oldCA, newCA)).to.deep.equal({ ca: newCA, accepted: [] });
    expect(caFieldsFor('etcd', 'Done', cp, oldCA, newCA)).to.deep.equal({ ca: newCA, accepted: [] });
    expect(caFieldsFor('aggregator', 'NewCAIssuing', { ca: { crt: oldCA.crt, key: '' }, accepted: [] }, oldCA, newCA)).to.deep.equal({ ca: { crt: newCA.crt, key: '' }, accepted: [] });
    const none = { ca: { crt: '', key: '' }, accepted: [] };
    expect(caFieldsFor('etcd', 'Done', none, oldCA, newCA)).to.deep.equal(none);
  });
});
