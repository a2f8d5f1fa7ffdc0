import { expect } from 'chai';
import type { PemCertAndKey } from '../../src/config/index.js';
import { createCA, encodePrivateKeyPem } from '../../src/pki/index.js';
import { CARotations, phaseIndex } from '../../src/resources/index.js';
import type { CARotationSpec, RotationPhase } from '../../src/resources/index.js';
import { callNode } from '../../src/server/rotation/node-client.js';
import { startRotationDriver } from '../../src/server/rotation/index.js';
import type { RotationDriver } from '../../src/server/rotation/index.js';
import { fixtureBundle } from '../controllers/node-harness.js';
import { LocalCluster } from './local-cluster.js';
import { OLD_OS_CA, credentials } from './rotation-cluster.js';

const never = () => new Promise<void>(() => undefined);

describe('CA rotation driver killed at every step (in-process nodes, real apid and trustd on 127.0.0.1)', function () {
  this.timeout(90_000);
  let cluster: LocalCluster;
  before(async () => {
    cluster = new LocalCluster(fixtureBundle());
    await cluster.add('controlplane', 'cp-1');
    await cluster.add('worker', 'worker-1');
  });
  after(async () => cluster?.destroy());

  it('finishes the rotation when a new driver takes over after each step, and every node keeps accepting the current certificate', async () => {
    const ca = await createCA('os', { algorithm: 'ed25519', now: new Date(Date.now() - 300_000) });
    const next: PemCertAndKey = { crt: ca.certPem, key: encodePrivateKeyPem(ca.key) };
    const both = [OLD_OS_CA.crt, next.crt];
    const oldCreds = await credentials(OLD_OS_CA, both);
    const newCreds = await credentials(next, both);
    const [cp, worker] = cluster.members;
    const started = await callNode(cp.address, oldCreds, 'POST', '/v1/carotations', { ca: 'os', newCA: next, controlPlanes: [cp.address], workers: [worker.address] });
    expect(started.status, started.error).to.equal(200);

    const rotationAt = { namespace: CARotations.namespace, type: CARotations.type, id: 'os' };
    const phase = async () => (await cp.node.state.get<CARotationSpec>(rotationAt)).spec.phase;
    const failures: string[] = [];
    let stop = false;
    // The certificate a person should be using: the old one until the new CA is accepted everywhere, then the new one.
    const prober = (async () => {
      while (!stop) {
        for (const m of cluster.members) {
          const before = await phase();
          const creds = phaseIndex(before) >= phaseIndex('NewCAAccepted') ? newCreds : oldCreds;
          const answer = await callNode(m.address, creds, 'GET', '/v1/version');
          if (answer.error !== undefined) failures.push(`${m.address} in ${before}: ${answer.error}`);
        }
      }
    })();

    const seen = new Set<string>();
    const killedAt: string[] = [];
    const abandoned: RotationDriver[] = [];
    for (;;) {
      let killed: (step: string) => void = () => undefined;
      const kill = new Promise<string>((resolve) => (killed = resolve));
      const driver = startRotationDriver({
        state: cp.node.state,
        pollMs: 20,
        onStep: (_spec, step) => {
          if (seen.has(step)) return;
          seen.add(step);
          killed(step);
          return never(); // this driver does nothing more, like a process that was killed here
        },
      });
      const done = (async () => {
        while ((await phase()) !== 'Done') await new Promise((resolve) => setTimeout(resolve, 20));
        return undefined;
      })();
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

    const phases: RotationPhase[] = ['NewCAAccepted', 'NewCAIssuing', 'LeavesReissued', 'OldCADropped', 'Done'];
    const expected = phases.flatMap((p) => [
      ...[cp, worker].flatMap((m) => [`${m.address} -> ${p}`, `${m.address} at ${p}, not recorded`]),
      `check ${p}`,
      `${p} checked, not recorded`,
    ]);
    expect(killedAt).to.deep.equal(expected);
    expect(failures).to.deep.equal([]);
    const final = (await cp.node.state.get<CARotationSpec>(rotationAt)).spec;
    expect(final.nodes.map((n) => n.phase)).to.deep.equal(['Done', 'Done']);
    const newOnly = await credentials(next, [next.crt]);
    for (const m of cluster.members) {
      expect((await callNode(m.address, newOnly, 'GET', '/v1/version')).error).to.equal(undefined);
      expect((await callNode(m.address, oldCreds, 'GET', '/v1/version')).error).to.equal('x509: certificate signed by unknown authority');
    }
  });
});
