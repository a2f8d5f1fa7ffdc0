import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { DateTime } from 'luxon';
import { serveLoggers } from '../../src/cli/serve-logs.js';
import { serviceOptions } from '../../src/cli/serve-node-options.js';
import { startNodeServices } from '../../src/server/node-assembly/node-services.js';
import type { NodeServices } from '../../src/server/node-assembly/node-services.js';
import type { ServeOptions } from '../../src/cli/serve-options.js';
import { createCsr, generateKeyPairSync } from '../../src/pki/index.js';
import { postCsr } from '../../src/server/trustd-client/post-csr.js';
import { NodeHarness, fixtureBundle } from '../controllers/node-harness.js';
import { issueClientCertificate } from '../../src/config/index.js';
import { callApid, credential } from '../server/apid-harness.js';
import { rejection } from '../support/caught.js';

const bundle = fixtureBundle();

/** What serve's command line gives the node's services, with free ports on 127.0.0.1. */
const options: ServeOptions = {
  nodeIp: [],
  logFormat: 'logfmt',
  listenAddress: '127.0.0.1',
  apidPort: 0,
  trustdPort: 0,
  trustdEndpoint: [],
  member: [],
  maxWatchesPerClient: 100,
  maxWatches: 1000,
};

describe('serve keeps each service its own log', function () {
  this.timeout(30_000);
  let h: NodeHarness;
  let services: NodeServices | undefined;

  before(async () => {
    h = await NodeHarness.start({ bundle, start: DateTime.utc(), addresses: ['127.0.0.1'] });
  });
  after(async () => {
    await services?.stop();
    await h.destroy();
  });

  it('shows a request with a bad token in `logs trustd`, served by its apid, and only there', async () => {
    const stderr: string[] = [];
    const loggers = serveLoggers('logfmt', (line) => stderr.push(line));
    services = await startNodeServices(h.node, serviceOptions(options, loggers));
    const port = (service: 'apid' | 'trustd') => Number(/msg="\w+ listening" address=127\.0\.0\.1:(\d+)/.exec(loggers.logs.of(service).tail().join('\n'))![1]);
    const csr = createCsr(generateKeyPairSync('ecdsa'), { commonName: 'talos-node' }, { ipAddresses: ['10.0.0.7'] });
    const at = new Date();
    const refused = await rejection(postCsr({ endpoint: { host: '127.0.0.1', port: port('trustd') }, csr, token: 'zzzzzz.0123456789abcdef', trusted: [new X509Certificate(bundle.certs.os.crt)], at, timeoutMs: 10_000 }));
    expect(refused.message).to.equal('trustd answered 401: invalid token');
    const answer = await callApid(port('apid'), bundle.certs.os.crt, credential('operator', await issueClientCertificate(bundle.certs.os, { roles: ['os:operator'], now: at })), 'GET', '/v1/logs/trustd');
    expect(answer.status, answer.body).to.equal(200);
    const lines = answer.body.trimEnd().split('\n').map((l) => (JSON.parse(l) as { line: string }).line);
    expect(lines.find((l) => l.includes('msg="trustd refused a request"'))).to.match(/status=401 error="invalid token"$/);
    expect(loggers.logs.of('apid').tail().join('\n')).not.to.contain('trustd refused');
    expect(stderr.join('')).to.contain('msg="trustd refused a request"');
    expect(stderr.join('')).not.to.contain('0123456789abcdef');
  });
});
