import { expect } from 'chai';
import { startEtcd } from '../support/etcd-server.js';
import type { EtcdServer } from '../support/etcd-server.js';
import { createCA, encodePrivateKeyPem } from '../../src/pki/index.js';
import type { CARotationSpec } from '../../src/resources/index.js';
import { callNode } from '../../src/server/rotation/node-client.js';
import { OLD_OS_CA, credentials } from '../server/rotation-cluster.js';
import { NodeSandbox } from './node-sandbox.js';

const LOCAL_PORTS = ['--listen-address', '127.0.0.1', '--apid-port', '0', '--trustd-port', '0'];

describe('trustctl serve --store etcd:// (replicas)', function () {
  this.timeout(90_000);
  let etcd: EtcdServer;
  let box: NodeSandbox;

  before(async () => {
    etcd = await startEtcd();
    box = await NodeSandbox.create();
  });
  after(async () => {
    await etcd?.stop();
    box?.remove();
  });

  it('runs the controllers in one replica, and the other takes over after a SIGKILL without issuing anything again', async () => {
    const args = ['serve', '--config', box.config, '--state', box.state, '--store', `etcd://${etcd.endpoint}/replicas`, '--node-ip', '10.5.0.2', '--hostname', 'cp-1', ...LOCAL_PORTS];
    const first = box.start(args);
    await first.until('the first replica leads and issues', (r) => r.stderr.includes('msg="leading: controllers running here"') && r.stderr.includes('msg="issued ApiCertificates/api server"'));
    const second = box.start(args);
    await second.until('the second replica serves apid', (r) => r.stderr.includes('apid server certificate installed'));
    expect(second.stderr).not.to.include('msg="leading');

    await first.stop('SIGKILL');
    await second.until('the second replica leads', (r) => r.stderr.includes('msg="leading: controllers running here"'));
    await second.until('its controllers settle on what the first issued', (r) => r.stderr.includes('msg="leader settled"'));
    expect(second.stderr).not.to.include('msg="issued');

    expect((await second.stop('SIGTERM')).code, second.stderr).to.equal(0);
  });

  it('runs a CA rotation in the leading replica only, and it finishes there', async () => {
    const args = ['serve', '--config', box.config, '--state', box.state, '--store', `etcd://${etcd.endpoint}/rotation`, '--node-ip', '10.5.0.2', '--hostname', 'cp-1', ...LOCAL_PORTS];
    const first = box.start(args);
    await first.until('the first replica leads and settles', (r) => r.stderr.includes('msg="leader settled"'));
    const second = box.start(args);
    await second.until('the second replica serves apid', (r) => r.stderr.includes('apid server certificate installed'));
    try {
      const port = /msg="apid listening" address=127\.0\.0\.1:(\d+)/.exec(first.stderr)![1];
      const made = await createCA('etcd', { algorithm: 'ecdsa', now: new Date(Date.now() - 300_000) });
      const admin = await credentials(OLD_OS_CA, [OLD_OS_CA.crt]);
      // Started through the follower's apid: the store is shared, the leader's driver picks it up.
      const secondPort = /msg="apid listening" address=127\.0\.0\.1:(\d+)/.exec(second.stderr)![1];
      const started = await callNode(`127.0.0.1:${secondPort}`, admin, 'POST', '/v1/carotations', { ca: 'etcd', newCA: { crt: made.certPem, key: encodePrivateKeyPem(made.key) }, controlPlanes: [`127.0.0.1:${port}`] });
      expect(started.status, started.error).to.equal(200);
      await first.until('the leader finishes the rotation', (r) => /msg="rotation reached phase" .*phase=Done/.test(r.stderr));
      expect(second.stderr).not.to.match(/msg="rotation/);
      const rotation = await callNode(`127.0.0.1:${secondPort}`, admin, 'GET', '/v1/resources/CARotations/etcd');
      expect((rotation.body as { spec: CARotationSpec }).spec.phase).to.equal('Done');
    } finally {
      for (const r of [second, first]) await r.stop('SIGTERM');
    }
  });

  it('refuses a --store that is not an etcd URL, naming the flag', async () => {
    const r = await box.runProcess(['serve', '--config', box.config, '--state', box.path('other'), '--store', 'redis://127.0.0.1:1/x']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('--store: "redis://127.0.0.1:1/x" is not an etcd URL');
  });
});
