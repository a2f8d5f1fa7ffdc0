import { expect } from 'chai';
import { startEtcd } from '../support/etcd-server.js';
import type { EtcdServer } from '../support/etcd-server.js';
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
  after(async () => etcd?.stop());

  it('runs the controllers in one replica, and the other takes over after a SIGKILL without issuing anything again', async () => {
    const args = ['serve', '--config', box.config, '--state', box.state, '--store', `etcd://${etcd.endpoint}/replicas`, '--node-ip', '10.5.0.2', '--hostname', 'cp-1', ...LOCAL_PORTS];
    const first = box.start(args);
    await first.until('the first replica leads and issues', (r) => r.stderr.includes('msg="leading: controllers running here"') && r.stderr.includes('msg="issued ApiCertificates/api server"'));
    const second = box.start(args);
    await second.until('the second replica serves apid', (r) => r.stderr.includes('apid server certificate installed'));
    expect(second.stderr).not.to.include('msg="leading');

    first.signal('SIGKILL');
    await first.exited;
    await second.until('the second replica leads', (r) => r.stderr.includes('msg="leading: controllers running here"'));
    await second.until('its controllers settle on what the first issued', (r) => r.stderr.includes('msg="leader settled"'));
    expect(second.stderr).not.to.include('msg="issued');

    second.signal('SIGTERM');
    expect((await second.exited).code, second.stderr).to.equal(0);
  });

  it('refuses a --store that is not an etcd URL, naming the flag', async () => {
    const r = await box.run(['serve', '--config', box.config, '--state', box.path('other'), '--store', 'redis://127.0.0.1:1/x']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('--store: "redis://127.0.0.1:1/x" is not an etcd URL');
  });
});
