// Each CA's rotation driver killed at every step (before and after each node's move, after each write to a node, around
// each check) on two control planes and a worker in this process: a new driver takes over each time and finishes, while
// an admin keeps calling every node's apid with the certificate a person should be using, and the control planes keep
// accepting each other's certificates of the CA under rotation.
import { expect } from 'chai';
import { filter, firstValueFrom, map } from 'rxjs';
import type { PemCertAndKey } from '../../src/config/index.js';
import { createCA, encodePrivateKeyPem } from '../../src/pki/index.js';
import type { CaProfile } from '../../src/pki/index.js';
import { CARotations, ROTATION_PHASES, phaseIndex } from '../../src/resources/index.js';
import type { CARotationSpec, RotatableCA } from '../../src/resources/index.js';
import type { NodeCredentials } from '../../src/server/rotation/node-client.js';
import { callNode } from '../../src/server/rotation/node-client.js';
import { startRotationDriver } from '../../src/server/rotation/index.js';
import type { RotationDriver } from '../../src/server/rotation/index.js';
import { fixtureBundle } from '../controllers/node-harness.js';
import { LocalCluster } from './local-cluster.js';
import type { Member } from './local-cluster.js';
import { newTally, probePeers } from './peer-probe.js';
import type { PeerCA } from './peer-probe.js';
import { credentials } from './rotation-cluster.js';
import { pacedRounds } from './paced-rounds.js';

const never = () => new Promise<void>(() => undefined);
const reader = (m: Member) => async (type: string, id: string) => (await m.node.state.find({ namespace: 'secrets', type, id }))?.spec;

/** What a phase writes on a node: the spec of which writes each rotation makes where, checked against the steps seen. */
type Writes = (phase: (typeof ROTATION_PHASES)[number], role: 'controlplane' | 'worker') => string[];

const CONFIG = 'machine config written';
const EXTRA = 'ExtraAcceptedCAs written';
const CROSS = 'CrossSignedCAs written';
/** kubernetes: every node's config carries the CA and its accepted list; each phase but LeavesReissued changes it. */
const inConfig: Writes = (phase) => (phase === 'NewCAAccepted' || phase === 'NewCAIssuing' || phase === 'OldCADropped' ? [CONFIG] : []);
/** os: the config as kubernetes; the cross-signed CA is served from before the config changes until after the drop. */
const inConfigCrossSigned: Writes = (phase, role) => (phase === 'NewCAAccepted' ? [CROSS, CONFIG] : phase === 'OldCADropped' ? [CONFIG, CROSS] : inConfig(phase, role));
/** etcd, aggregator: control planes only; the overlap opens and closes in ExtraAcceptedCAs, the CA changes in between. */
const overlap: Writes = (phase, role) => (role === 'worker' ? [] : phase === 'NewCAIssuing' ? [CONFIG] : phase === 'NewCAAccepted' || phase === 'OldCADropped' ? [EXTRA] : []);

const CASES: { ca: RotatableCA; profile: CaProfile; algorithm: 'ed25519' | 'ecdsa'; writes: Writes }[] = [
  { ca: 'os', profile: 'os', algorithm: 'ed25519', writes: inConfigCrossSigned },
  { ca: 'kubernetes', profile: 'kubernetes', algorithm: 'ecdsa', writes: inConfig },
  { ca: 'etcd', profile: 'etcd', algorithm: 'ecdsa', writes: overlap },
  { ca: 'aggregator', profile: 'aggregator', algorithm: 'ecdsa', writes: overlap },
];

describe('CA rotation driver killed at every step (two control planes and a worker in-process, real apid and trustd on 127.0.0.1)', function () {
  this.timeout(120_000);
  let cluster: LocalCluster;
  before(async () => {
    cluster = new LocalCluster(fixtureBundle());
    await cluster.add('controlplane', 'cp-1');
    await cluster.add('controlplane', 'cp-2');
    await cluster.add('worker', 'worker-1');
  });
  after(async () => cluster?.destroy());

  for (const c of CASES) {
    it(`finishes a rotation of the ${c.ca} CA when a new driver takes over after each step, with no refused call or peer throughout`, async () => {
      const made = await createCA(c.profile, { algorithm: c.algorithm, now: new Date(Date.now() - 300_000) });
      const next: PemCertAndKey = { crt: made.certPem, key: encodePrivateKeyPem(made.key) };
      // The OS CA in use when this rotation starts: the fixture's, or the one an earlier os case rotated to.
      const osCA = (await cluster.members[0].node.state.get<{ issuingCA: PemCertAndKey }>({ namespace: 'secrets', type: 'OSRootSecrets', id: 'os' })).spec.issuingCA;
      const trusted = c.ca === 'os' ? [osCA.crt, next.crt] : [osCA.crt];
      const current = await credentials(osCA, trusted);
      const rotated = c.ca === 'os' ? await credentials(next, trusted) : current;
      const [cp1, cp2, worker] = cluster.members;
      const started = await callNode(cp1.address, current, 'POST', '/v1/carotations', { ca: c.ca, newCA: next, controlPlanes: [cp1.address, cp2.address], workers: [worker.address] });
      expect(started.status, started.error).to.equal(200);

      const rotationAt = { namespace: CARotations.namespace, type: CARotations.type, id: c.ca };
      const phase = async () => (await cp1.node.state.get<CARotationSpec>(rotationAt)).spec.phase;
      const failures: string[] = [];
      const peers = newTally();
      let stop = false;
      // The certificate a person should be using: the old one until the new CA is accepted everywhere, then the new one.
      const prober = pacedRounds(
        () => stop,
        async () => {
          for (const m of cluster.members) {
            const before = await phase();
            const creds: NodeCredentials = phaseIndex(before) >= phaseIndex('NewCAAccepted') ? rotated : current;
            const answer = await callNode(m.address, creds, 'GET', '/v1/version');
            if (answer.error !== undefined) failures.push(`${m.address} in ${before}: ${answer.error}`);
          }
          if (c.ca !== 'os') await probePeers(c.ca as PeerCA, [cp1, cp2].map((m) => ({ name: m.address, read: reader(m) })), peers);
        },
      );

      const seen = new Set<string>();
      const killedAt: string[] = [];
      const abandoned: RotationDriver[] = [];
      // The store says when the rotation is done: one watch for the whole test, not a poll per driver started.
      const done = firstValueFrom(
        cp1.node.state.watch<CARotationSpec>(rotationAt).pipe(
          filter((e) => e.type !== 'destroyed' && e.resource?.spec.phase === 'Done'),
          map(() => undefined),
        ),
      );
      for (;;) {
        let killed: (step: string) => void = () => undefined;
        const kill = new Promise<string>((resolve) => (killed = resolve));
        const driver = startRotationDriver({
          state: cp1.node.state,
          pollMs: 20,
          onStep: (_spec, step) => {
            if (seen.has(step)) return;
            seen.add(step);
            killed(step);
            return never(); // this driver does nothing more, like a process that was killed here
          },
        });
        const step = await Promise.race([kill, done]);
        if (step === undefined) {
          await driver.close();
          break;
        }
        killedAt.push(step);
        void driver.close(); // stops following the store; its stuck step never ends
        abandoned.push(driver);
      }
      stop = true;
      await prober;

      const expected = ROTATION_PHASES.slice(1).flatMap((p) => [
        ...[cp1, cp2, worker].flatMap((m, i) => {
          const role = i < 2 ? 'controlplane' : 'worker';
          return [`${m.address} -> ${p}`, ...c.writes(p, role).map((w) => `${m.address} -> ${p}: ${w}`), `${m.address} at ${p}, not recorded`];
        }),
        `check ${p}`,
        `${p} checked, not recorded`,
      ]);
      expect(killedAt).to.deep.equal(expected);
      expect([...failures, ...peers.failures]).to.deep.equal([]);
      if (c.ca !== 'os') expect(peers.handshakes).to.be.greaterThan(0);
      const final = (await cp1.node.state.get<CARotationSpec>(rotationAt)).spec;
      expect(final.nodes.map((n) => n.phase)).to.deep.equal(['Done', 'Done', 'Done']);
      if (c.ca === 'os') {
        const newOnly = await credentials(next, [next.crt]);
        for (const m of cluster.members) {
          expect((await callNode(m.address, newOnly, 'GET', '/v1/version')).error).to.equal(undefined);
          expect((await callNode(m.address, current, 'GET', '/v1/version')).error).to.equal('x509: certificate signed by unknown authority');
        }
      }
    });
  }
});
