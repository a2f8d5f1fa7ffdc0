import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMachineConfig } from '../../src/config/index.js';
import type { MachineType, PemCertAndKey } from '../../src/config/index.js';
import { createCA, encodePrivateKeyPem } from '../../src/pki/index.js';
import { CARotations, MACHINE_CONFIG_ID, MachineConfigs, phaseIndex } from '../../src/resources/index.js';
import type { CARotationSpec, RotationPhase } from '../../src/resources/index.js';
import { startApid } from '../../src/server/apid/index.js';
import type { Apid } from '../../src/server/apid/index.js';
import { openNode } from '../../src/server/node.js';
import type { Node } from '../../src/server/node.js';
import { callNode } from '../../src/server/rotation/node-client.js';
import { startRotationDriver } from '../../src/server/rotation/index.js';
import type { RotationDriver } from '../../src/server/rotation/index.js';
import { startTrustdClient } from '../../src/server/trustd-client/index.js';
import type { TrustdClient } from '../../src/server/trustd-client/index.js';
import { startTrustd } from '../../src/server/trustd/index.js';
import type { Trustd } from '../../src/server/trustd/index.js';
import { fixtureBundle } from '../controllers/node-harness.js';
import { OLD_OS_CA, credentials } from './rotation-cluster.js';

interface Member {
  node: Node;
  apid: Apid;
  address: string;
}

/** Nodes in this process (real SQLite files, real apid/trustd on 127.0.0.1 port 0, the system clock). */
class LocalCluster {
  readonly dirs: string[] = [];
  readonly members: Member[] = [];
  trustd: Trustd | undefined;
  client: TrustdClient | undefined;

  async add(type: MachineType, hostname: string): Promise<Member> {
    const dir = mkdtempSync(join(tmpdir(), `trustplane-rotation-${type}-`));
    this.dirs.push(dir);
    const node = await openNode({ stateDir: dir, addresses: { addresses: ['127.0.0.1'], hostname } });
    const config = generateMachineConfig(fixtureBundle(), { type, clusterName: 'demo', endpoint: 'https://127.0.0.1:6443' });
    await node.state.create({ metadata: { namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID }, spec: { yaml: config.toYaml() } });
    await node.runtime.start();
    if (type !== 'worker') this.trustd = await startTrustd({ state: node.state, host: '127.0.0.1', port: 0 });
    else this.client = startTrustdClient({ state: node.state, endpoints: [`127.0.0.1:${this.trustd!.port}`] });
    const apid = await startApid({ state: node.state, registry: node.registry, host: '127.0.0.1', port: 0 });
    await apid.ready;
    const member = { node, apid, address: `127.0.0.1:${apid.port}` };
    this.members.push(member);
    return member;
  }

  async destroy(): Promise<void> {
    await this.client?.close();
    await this.trustd?.close();
    for (const m of this.members) {
      await m.apid.close();
      await m.node.stop();
    }
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

const never = () => new Promise<void>(() => undefined);

describe('CA rotation driver killed at every step (in-process nodes, real apid and trustd on 127.0.0.1)', function () {
  this.timeout(90_000);
  let cluster: LocalCluster;
  before(async () => {
    cluster = new LocalCluster();
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
