import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { dirname } from 'node:path';
import { expect } from 'chai';
import { FIXTURE_SECRETS } from '../controllers/node-harness.js';
import { freePort } from '../support/free-port.js';
import { NodeSandbox } from './node-sandbox.js';
import type { Running } from './node-sandbox.js';

function getText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('trustctl against trustctl serve (child processes end to end)', function () {
  let box: NodeSandbox;
  let node: Running;
  let apidPort: number;
  let metricsPort: number;

  before(async () => {
    box = await NodeSandbox.create();
    const gen = await box.run(['gen', 'config', 'demo', 'https://10.5.0.2:6443', '--with-secrets', FIXTURE_SECRETS, '--output-types', 'talosconfig', '-o', dirname(box.talosconfig)]);
    expect(gen.code, gen.stderr).to.equal(0);
    writeFileSync(box.talosconfig, readFileSync(`${dirname(box.talosconfig)}/talosconfig`), { mode: 0o600 });
    apidPort = await freePort();
    metricsPort = await freePort();
    node = box.start([
      'serve', '--config', box.config, '--state', box.state, '--node-ip', '10.5.0.2', '--hostname', 'cp-1',
      '--listen-address', '127.0.0.1', '--apid-port', String(apidPort), '--metrics-addr', `127.0.0.1:${metricsPort}`,
    ]);
    await node.until('the node settles', () => node.stderr.includes('msg="node settled"'));
  });
  after(async () => {
    node?.signal('SIGTERM');
    await node?.exited;
    box?.remove();
  });

  it('reads the served node with the talosconfig gen config wrote (admin), the same resources the store holds', async () => {
    const r = await box.run(['-e', `127.0.0.1:${apidPort}`, 'get', 'cs', '-o', 'json']);
    expect(r.code, r.stderr).to.equal(0);
    const remote = (JSON.parse(r.stdout) as { node: string; metadata: { id: string } }[]).map((d) => d.metadata.id).sort();
    const local = (await box.getJson('cs')).map((d) => d.metadata.id).sort();
    expect(remote).to.deep.equal(local);
    const mc = await box.run(['-e', `127.0.0.1:${apidPort}`, 'get', 'mc', '-o', 'yaml']);
    expect(mc.code, mc.stderr).to.equal(0);
    expect(mc.stdout).to.match(/^node: 127\.0\.0\.1\nmetadata:\n/);
  });

  it('serves Prometheus metrics at --metrics-addr', async () => {
    const text = await getText(metricsPort, '/metrics');
    expect(text).to.match(/^trustplane_certificate_expiration_timestamp_seconds\{id="api-server",ca="os"\} \d+/m);
  });
});
