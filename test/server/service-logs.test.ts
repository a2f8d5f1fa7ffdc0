import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { serveLoggers } from '../../src/cli/serve-logs.js';
import type { ServeLoggers } from '../../src/cli/serve-logs.js';
import { createCsr, generateKeyPairSync } from '../../src/pki/index.js';
import { checkJoinTokenRequest, createJoinToken } from '../../src/server/join-tokens/index.js';
import { LogRing, MAX_LINE_BYTES } from '../../src/server/service-logs.js';
import { postCsr } from '../../src/server/trustd-client/post-csr.js';
import { startTrustd } from '../../src/server/trustd/index.js';
import type { Trustd } from '../../src/server/trustd/index.js';
import { rejection } from '../support/caught.js';
import { ApidHarness } from './apid-harness.js';
import type { Credential } from './apid-harness.js';
import { readWatch } from './apid-stream.js';

describe('service log rings', () => {
  it('keeps the newest lines within its line bound, oldest first', () => {
    const ring = new LogRing({ lines: 3, bytes: 1 << 20 });
    for (let i = 1; i <= 5; i++) ring.append(`line ${i}\n`);
    expect(ring.tail()).to.deep.equal(['line 3', 'line 4', 'line 5']);
    expect(ring.tail(2)).to.deep.equal(['line 4', 'line 5']);
    expect(ring.tail(0)).to.deep.equal([]);
    expect(ring.size).to.deep.equal({ lines: 3, bytes: 18 });
  });

  it('keeps the newest lines within its byte bound, and cuts a line longer than 8 KiB so it cannot push out the rest', () => {
    const ring = new LogRing({ lines: 1000, bytes: 20 * 1024 });
    for (let i = 0; i < 100; i++) ring.append(`${'x'.repeat(1000)} ${i}`);
    expect(ring.size.bytes).to.be.at.most(20 * 1024);
    expect(ring.tail().at(-1)).to.match(/ 99$/);
    ring.append('é'.repeat(MAX_LINE_BYTES));
    const cut = ring.tail(1)[0];
    expect(Buffer.byteLength(cut)).to.be.below(MAX_LINE_BYTES + 64);
    expect(cut).to.match(/^é+\.\.\. \(line cut at 8192 bytes\)$/);
    expect(ring.tail().length).to.be.above(1);
  });

  it('gives each follower every new line, and nothing once it stops', () => {
    const ring = new LogRing();
    const seen: string[] = [];
    ring.append('before');
    const stop = ring.follow((line) => seen.push(line));
    ring.append('one');
    expect(ring.following).to.equal(1);
    stop();
    ring.append('two');
    expect(seen).to.deep.equal(['one']);
    expect(ring.following).to.equal(0);
  });
});

describe('trustctl logs over apid (GET /v1/logs/:service)', function () {
  this.timeout(30_000);
  let h: ApidHarness;
  let loggers: ServeLoggers;
  let trustd: Trustd;
  let operator: Credential;
  const stderr: string[] = [];

  before(async () => {
    loggers = serveLoggers('logfmt', (line) => stderr.push(line));
    h = await ApidHarness.start({ apid: { serviceLogs: loggers.logs, logger: loggers.service('apid'), refusalLogRate: { perSecond: 1, burst: 3 } } });
    trustd = await startTrustd({ state: h.node.node.state, host: '127.0.0.1', port: 0, clock: h.node.clock, rateLimit: false, logger: loggers.service('trustd') });
    operator = await h.role('os:operator');
  });
  after(async () => {
    await trustd.close();
    await h.close();
  });

  const lines = async (service: string, query = '', who = operator) => {
    const answer = await h.request(who, 'GET', `/v1/logs/${service}${query}`);
    expect(answer.status, answer.body).to.equal(200);
    return answer.body
      .trimEnd()
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { line: string }).line);
  };

  it("serves a service's last lines to os:operator and os:admin, refuses os:reader, and names the services for an unknown one", async () => {
    for (let i = 0; i < 5; i++) loggers.service('controller-runtime')(`reconciled ${i}`, { controller: 'Test' });
    const last = await lines('controller-runtime', '?tail=2');
    expect(last).to.have.length(2);
    expect(last[1]).to.match(/^time=\S+ level=info msg="reconciled 4" controller=Test$/);
    expect(await lines('controller-runtime', '', await h.role('os:admin'))).to.include.members(last);
    const reader = await h.request(await h.role('os:reader'), 'GET', '/v1/logs/apid');
    expect([reader.status, reader.json.error]).to.deep.equal([403, 'not authorized']);
    const unknown = await h.request(operator, 'GET', '/v1/logs/kubelet');
    expect([unknown.status, unknown.json.error]).to.deep.equal([404, 'no service "kubelet": the services with logs are apid, trustd, controller-runtime']);
    const badTail = await h.request(operator, 'GET', '/v1/logs/apid?tail=x');
    expect([badTail.status, badTail.json.error]).to.deep.equal([400, 'tail: expected a number of lines 0-1000000 (or -1 for all), got "x"']);
  });

  it('follows: a line logged while the stream is open arrives on it, and the follower goes when the caller hangs up', async () => {
    const ring = loggers.logs.of('controller-runtime');
    let logged = false;
    const result = await readWatch(h.apid.port, h.caPem, operator, '/v1/logs/controller-runtime?tail=1&follow=true', (got) => {
      if (got.length === 1 && !logged) {
        logged = true;
        loggers.service('controller-runtime')('a new line', {});
      }
      return got.length === 2;
    });
    expect(result.status).to.equal(200);
    expect((result.lines[1] as unknown as { line: string }).line).to.match(/msg="a new line"$/);
    for (let i = 0; i < 1000 && ring.following > 0; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(ring.following).to.equal(0);
  });

  it('shows a request with a bad trustd token in the trustd log (who, why, from where), and never a token in any line', async () => {
    const at = () => h.node.clock.now().toJSDate();
    const ask = (token: string) => postCsr({ endpoint: { host: '127.0.0.1', port: trustd.port }, csr, token, trusted: [new X509Certificate(h.caPem)], at: at(), timeoutMs: 10_000 });
    const csr = createCsr(generateKeyPairSync('ecdsa'), { commonName: 'talos-node' }, { ipAddresses: ['10.0.0.7'] });
    const bad = 'zzzzzz.0123456789abcdef';
    expect((await rejection(ask(bad))).message).to.equal('trustd answered 401: invalid token');
    const { token } = await createJoinToken(h.node.node.state, checkJoinTokenRequest({}), 'test', at());
    await ask(token);
    await ask(h.bundle.trustdInfo.token);
    const trustdLines = await lines('trustd');
    const refusal = trustdLines.find((l) => l.includes('msg="trustd refused a request"'));
    expect(refusal).to.match(/source=(::ffff:)?127\.0\.0\.1 status=401 error="invalid token"/);
    expect(trustdLines.find((l) => l.includes('msg="trustd signed a certificate"'))).to.contain(`token="join token ${token.slice(0, 6)}"`);
    const everything = [...stderr, ...(await lines('trustd')), ...(await lines('apid')), ...(await lines('controller-runtime'))].join('\n');
    for (const secret of [bad, token, h.bundle.trustdInfo.token]) expect(everything).not.to.contain(secret.slice(7));
    expect(everything).not.to.contain('PRIVATE KEY');
  });

  it('logs each refused client with who, why and from where, and a flood as a bounded number of lines with a suppressed count', async () => {
    const apidLines = async () => (await lines('apid', '', await h.role('os:admin'))).filter((l) => l.includes('apid'));
    // The refusals of the tests before have spent the burst: a minute refills it.
    await h.node.clock.advance({ minutes: 1 });
    const before = (await apidLines()).length;
    const reader = await h.role('os:reader');
    for (let i = 0; i < 30; i++) expect((await h.request(reader, 'PUT', '/v1/tokenpolicy', { staticToken: 'refused' })).status).to.equal(403);
    const flood = (await apidLines()).slice(before);
    const refused = flood.filter((l) => l.includes('msg="apid refused a call"'));
    expect(refused).to.have.length(3);
    expect(refused[0]).to.match(/msg="apid refused a call" client="CN=talosctl-client,O=os:reader" method=PUT path=\/v1\/tokenpolicy status=403 error="not authorized" source=(::ffff:)?127\.0\.0\.1$/);
    await h.node.clock.advance({ seconds: 1 });
    await h.request(reader, 'PUT', '/v1/tokenpolicy', {});
    const after = (await apidLines()).slice(before + flood.length);
    expect(after[0]).to.match(/msg="apid refusals not logged" suppressed=\d+$/);
    expect(Number(/suppressed=(\d+)/.exec(after[0])![1])).to.be.at.least(27);
  });
});
