import { expect } from 'chai';
import { printLogs } from '../../src/cli/logs.js';
import { bufferIo } from '../../src/cli/buffer-io.js';
import { buildProgram } from '../../src/cli/program.js';
import { TEST_PLACE, captured } from '../support/captured-output.js';
import { serveLoggers } from '../../src/cli/serve-logs.js';
import { TOKEN_PATTERN } from '../../src/config/random-token.js';
import { JoinTokens } from '../../src/resources/index.js';
import type { JoinTokenSpec } from '../../src/resources/index.js';
import { ApidHarness } from '../server/apid-harness.js';
import { rejection } from '../support/caught.js';
import { RemoteBox } from './remote-support.js';

describe('trustctl token and trustctl logs', function () {
  this.timeout(60_000);
  let target: ApidHarness;
  let endpoint: ApidHarness;
  let box: RemoteBox;
  const loggers = serveLoggers('logfmt', () => undefined);

  before(async () => {
    target = await ApidHarness.start({ hostname: 'node-b', apid: { serviceLogs: loggers.logs } });
    endpoint = await ApidHarness.start({ hostname: 'node-a', apid: { forward: { members: [target.address] } } });
    // trustctl runs as a child with a talosconfig for the endpoint (three runs in all; the rest is in-process).
    box = new RemoteBox();
    box.a = endpoint;
    await box.writeTalosconfig(box.talosconfig, ['os:admin']);
  });
  after(async () => {
    box?.remove();
    await endpoint?.close();
    await target?.close();
  });

  const stored = () => endpoint.node.node.state.list<JoinTokenSpec>({ namespace: JoinTokens.namespace, type: JoinTokens.type });

  it('creates a token printed once on one line, lists it without the secret, revokes it; a bad flag writes nothing', async () => {
    const created = await box.run(['token', 'create', '--ttl', '2h', '--uses', '2', '--node-ip', '10.0.0.7', '--hostname', 'worker-1']);
    expect(created.code, created.stderr).to.equal(0);
    const token = created.stdout.trimEnd();
    expect(token).to.match(TOKEN_PATTERN);
    const id = token.slice(0, 6);
    expect(created.stderr).to.match(new RegExp(`^join token ${id}: 2 use\\(s\\) until \\S+, bound to 10\\.0\\.0\\.7,worker-1; it is shown this once\\n$`));

    // The same store read locally (the node's state directory) as a person on the node would.
    const listed = await box.run(['token', 'list', '--state', endpoint.node.dir]);
    expect(listed.code, listed.stderr).to.equal(0);
    const [header, row] = listed.stdout.trimEnd().split('\n');
    expect(header.split(/\s{2,}/)).to.deep.equal(['ID', 'EXPIRES', 'STATE', 'USES', 'BOUND TO', 'CREATED BY']);
    expect(row.split(/\s{2,}/)).to.deep.include.members([id, 'Valid', '0/2', '10.0.0.7,worker-1', 'CN=talosctl-client,O=os:admin']);
    expect(listed.stdout + listed.stderr).not.to.contain(token.slice(7));

    for (const [flags, error] of [
      [['--node-ip', '10.0.0.300'], '--node-ip: expected an IP address such as 10.0.0.7, got "10.0.0.300"'],
      [['--node-ip', 'fe80::1%eth0'], '--node-ip: expected an IP address such as 10.0.0.7, got "fe80::1%eth0"'],
      [['--ttl', '5s'], '--ttl: expected a lifetime from 1m to 8760h, got 5s'],
      [['--ttl', 'soon'], '--ttl: invalid duration "soon"'],
      [['--uses', '0'], '--uses: expected a whole number from 1 to 10000, got "0"'],
      [['--uses', '1e9'], '--uses: expected a whole number from 1 to 10000, got "1e9"'],
      [['--hostname', 'bad_host!'], '--hostname: expected a host name'],
    ] as [string[], string][]) {
      const bad = await rejection(buildProgram(bufferIo(TEST_PLACE)).parseAsync(['token', 'create', '--state', endpoint.node.dir, ...flags], { from: 'user' }));
      expect(bad.message, flags.join(' ')).to.contain(error);
    }
    expect((await stored()).map((r) => r.metadata.id)).to.deep.equal([id]);

    const revoked = await box.run(['token', 'revoke', id]);
    expect([revoked.code, revoked.stdout]).to.deep.equal([0, `join token ${id} revoked\n`]);
    expect(await stored()).to.deep.equal([]);
  });

  it("prints a node's service lines through the endpoint (-n), the last --tail of them", async () => {
    for (let i = 0; i < 4; i++) loggers.service('trustd')(`trustd line ${i}`, {});
    const operator = box.path('operator-talosconfig');
    await box.writeTalosconfig(operator, ['os:operator']);
    const { stdout: out } = await captured((io) => printLogs('trustd', { tail: 2 }, { talosconfig: operator, nodes: [target.address] }, io));
    expect(out.trimEnd().split('\n').map((l) => /msg="([^"]+)"/.exec(l)?.[1])).to.deep.equal(['trustd line 2', 'trustd line 3']);
    const refused = await rejection(printLogs('trustd', { tail: 2 }, { talosconfig: operator }, bufferIo(TEST_PLACE)));
    expect(refused.message).to.equal('this node keeps no service logs (it is not run by trustctl serve)');
  });

  it('names the services when asked for an unknown one, before dialling anything', async () => {
    const program = buildProgram(bufferIo(TEST_PLACE));
    const err = await rejection(program.parseAsync(['-e', '192.0.2.1', 'logs', 'kubelet'], { from: 'user' }));
    expect(err.message).to.equal('logs: no service "kubelet": the services with logs are apid, trustd, controller-runtime');
  });
});
