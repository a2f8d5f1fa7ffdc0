// Recovery: an etcd CA that has already expired (every etcd leaf with it, since a leaf never outlives its CA) is
// rotated across two control planes; the nodes issue valid leaves from the new CA and SecurityStatus clears.
import { expect } from 'chai';
import { generateSecretsBundle } from '../../src/config/index.js';
import type { PemCertAndKey } from '../../src/config/index.js';
import { createCA, encodePrivateKeyPem } from '../../src/pki/index.js';
import { CARotations, SecurityStatuses } from '../../src/resources/index.js';
import type { CARotationSpec, IssuedCertificatesSpec, SecurityStatusSpec } from '../../src/resources/index.js';
import { callNode } from '../../src/server/rotation/node-client.js';
import { startRotationDriver } from '../../src/server/rotation/index.js';
import { verifyStrict } from '../pki/openssl.js';
import { LocalCluster } from './local-cluster.js';
import { peerHandshake, peerView } from './peer-probe.js';
import { credentials } from './rotation-cluster.js';

const HOUR = 3_600_000;

describe('rotating an etcd CA that has already expired (two control planes in-process)', function () {
  this.timeout(60_000);
  let cluster: LocalCluster;
  let expired: PemCertAndKey;
  before(async () => {
    const made = await createCA('etcd', { algorithm: 'ecdsa', validityHours: 1, now: new Date(Date.now() - 2 * HOUR) });
    expired = { crt: made.certPem, key: encodePrivateKeyPem(made.key) };
    cluster = new LocalCluster(await generateSecretsBundle({ supplied: { etcd: expired } }));
    await cluster.add('controlplane', 'cp-1');
    await cluster.add('controlplane', 'cp-2');
  });
  after(async () => cluster?.destroy());

  it('says the CA expired, then rotates it: valid leaves from the new CA, the peers accept each other, the finding is gone', async () => {
    const [cp1, cp2] = cluster.members;
    const admin = await credentials(cluster.bundle.certs.os, [cluster.bundle.certs.os.crt]);
    const status = async (m: typeof cp1) => (await m.node.state.get<SecurityStatusSpec>({ namespace: 'runtime', type: SecurityStatuses.type, id: 'securitystatus' })).spec;
    const read = (m: typeof cp1) => async (type: string, id: string) => (await m.node.state.find({ namespace: 'secrets', type, id }))?.spec;
    await cp1.node.runtime.settled();
    const before = await status(cp1);
    expect(before.healthy).to.equal(false);
    expect(before.findings.find((f) => f.code === 'CAExpired')).to.deep.include({ severity: 'critical', subject: 'ca-etcd' });
    expect(before.findings.find((f) => f.code === 'CAExpired')?.message).to.match(/^the etcd CA expired at \S+; rotate it: trustctl rotate-ca --etcd$/);
    // No etcd leaf can be issued from it; the controller says why and what to do.
    const failing = cp1.node.runtime.status().find((c) => c.name === 'EtcdCertificateController')!;
    expect(failing.lastError).to.match(/the etcd CA expired at \S+; rotate it: trustctl rotate-ca --etcd$/);
    expect(await read(cp1)('EtcdSecrets', 'etcd')).to.equal(undefined);

    const made = await createCA('etcd', { algorithm: 'ecdsa', now: new Date(Date.now() - 300_000) });
    const next: PemCertAndKey = { crt: made.certPem, key: encodePrivateKeyPem(made.key) };
    const started = await callNode(cp1.address, admin, 'POST', '/v1/carotations', { ca: 'etcd', newCA: next, controlPlanes: [cp1.address, cp2.address] });
    expect(started.status, started.error).to.equal(200);
    const driver = startRotationDriver({ state: cp1.node.state, pollMs: 20 });
    const rotationAt = { namespace: CARotations.namespace, type: CARotations.type, id: 'etcd' };
    try {
      await until('the rotation is Done', async () => (await cp1.node.state.get<CARotationSpec>(rotationAt)).spec.phase === 'Done');
    } finally {
      await driver.close();
    }
    const final = (await cp1.node.state.get<CARotationSpec>(rotationAt)).spec;
    expect(final.phase, final.lastError).to.equal('Done');
    // Done means every control plane holds its etcd leaves, from the new CA (not merely none from the old one).
    for (const m of [cp1, cp2]) {
      const leaves = Object.entries(((await read(m)('EtcdSecrets', 'etcd')) as IssuedCertificatesSpec).certificates);
      expect(leaves.map(([name]) => name).sort(), m.address).to.deep.equal(['admin', 'apiserver-etcd-client', 'peer', 'server']);
      for (const [name, c] of leaves) expect(verifyStrict(next.crt, c.crt).ok, `${m.address} ${name}`).to.equal(true);
      await until('its SecurityStatus no longer says the etcd CA expired', async () => !(await status(m)).findings.some((f) => f.code === 'CAExpired'));
    }
    const [a, b] = [(await peerView('etcd', read(cp1)))!, (await peerView('etcd', read(cp2)))!];
    expect(await peerHandshake('etcd', a, b)).to.equal(undefined);
    expect(await peerHandshake('etcd', b, a)).to.equal(undefined);
  });
});

/** Real time passes here (the controllers back off in real time); the mocha timeout bounds the wait. */
async function until(what: string, done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never happened: ${what}`);
}
