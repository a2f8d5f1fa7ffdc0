import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseTalosconfig } from '../../src/config/index.js';
import { FIXTURE_SECRETS } from '../controllers/node-harness.js';
import { RemoteBox } from './remote-support.js';

// The Talos docs' example endpoint: a name the nodes' load balancer or DNS knows, but this machine does not.
const DNS_ENDPOINT = 'https://controlplane:6443';

describe('gen config with a DNS endpoint this machine cannot resolve', function () {
  let box: RemoteBox;
  before(async () => (box = await RemoteBox.open()));
  after(async () => box?.close());

  it('says which endpoints it wrote and how to change them; after `config endpoint` the talosconfig works against the node', async () => {
    // the harness's node runs on the fixture bundle, so a talosconfig from that bundle is one of its cluster's
    const gen = await box.run(['gen', 'config', 'demo', DNS_ENDPOINT, '--with-secrets', FIXTURE_SECRETS, '--output-types', 'talosconfig', '-o', box.path('out')]);
    expect(gen.code, gen.stderr).to.equal(0);
    const talosconfig = box.path('out', 'talosconfig');
    expect(gen.stderr).to.equal(
      `created ${talosconfig}\ntalosconfig endpoints: controlplane (the host of ${DNS_ENDPOINT}); if that name does not resolve from this machine, give the nodes' addresses instead: trustctl --talosconfig ${talosconfig} config endpoint <node address>...\n`,
    );
    expect(parseTalosconfig(readFileSync(talosconfig, 'utf8')).contexts.demo.endpoints).to.deep.equal(['controlplane']);

    const unresolved = await box.run(['--talosconfig', talosconfig, 'get', 'cs']);
    expect(unresolved.code).to.equal(1);
    expect(unresolved.stderr).to.contain("endpoint controlplane:50000: getaddrinfo");
    expect(unresolved.stderr).to.contain("the name does not resolve from this machine: set the nodes' addresses with `trustctl config endpoint <address>...` (or pass -e)");

    const set = await box.run(['--talosconfig', talosconfig, 'config', 'endpoint', box.a.address]);
    expect(set.code, set.stderr).to.equal(0);
    const works = await box.run(['--talosconfig', talosconfig, 'get', 'cs', '-o', 'json']);
    expect(works.code, works.stderr).to.equal(0);
    expect((JSON.parse(works.stdout) as unknown[]).length).to.be.greaterThan(0);
  });

  it('names an IP endpoint too, with the command to use other nodes', async () => {
    const gen = await box.run(['gen', 'config', 'demo', 'https://10.5.0.2:6443', '--with-secrets', FIXTURE_SECRETS, '--output-types', 'talosconfig', '-o', box.path('ip')]);
    expect(gen.code, gen.stderr).to.equal(0);
    expect(gen.stderr).to.contain(`talosconfig endpoints: 10.5.0.2 (the host of https://10.5.0.2:6443); to use other nodes: trustctl --talosconfig ${box.path('ip', 'talosconfig')} config endpoint <node address>...\n`);
  });
});
