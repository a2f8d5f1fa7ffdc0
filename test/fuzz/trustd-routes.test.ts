// Fuzzes trustd over real HTTPS: fuzzed paths, methods, Authorization headers and CSR bodies (mutations of valid
// CSRs, re-armoured DER and text). Every answer is a signed certificate or a 4xx with {"error": "..."}, never a 5xx
// or a reset, and trustd writes nothing to the store.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { decodePem, encodePem } from '../../src/pki/index.js';
import { startTrustd } from '../../src/server/trustd/index.js';
import type { Trustd } from '../../src/server/trustd/index.js';
import { NodeHarness, fixtureBundle } from '../controllers/node-harness.js';
import { describeInput } from './clean-outcome.js';
import { mutationOf, sampleCsrs } from './der-inputs.js';
import { fuzzAsync } from './fuzz-settings.js';
import { StatusTally, isJsonRefusal, jsonBodyValue, rawRequest } from './http-request.js';
import { textMutation } from './text-inputs.js';

const jsonValue = jsonBodyValue;

describe('fuzz: trustd (real HTTPS, real SQLite)', function () {
  this.timeout(300_000);
  const bundle = fixtureBundle();
  const token = bundle.trustdInfo.token;
  const csrs = sampleCsrs();
  let h: NodeHarness;
  let trustd: Trustd;
  const statuses = new StatusTally();

  before(async () => {
    h = await NodeHarness.start({ bundle, start: DateTime.utc().startOf('second'), addresses: ['10.5.0.2'], hostname: 'cp-1' });
    trustd = await startTrustd({ state: h.node.state, host: '127.0.0.1', port: 0, clock: h.clock, rateLimit: false });
  });
  after(async () => {
    await trustd.close();
    await h.destroy();
  });
  afterEach(() => statuses.reset());

  async function expectClean(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<void> {
    const before = await h.node.state.revision();
    const input = `${method} ${path} ${JSON.stringify(headers)} ${describeInput(body ?? '')}`;
    const answer = await rawRequest({ port: trustd.port, caPem: bundle.certs.os.crt, method, path, headers, body });
    statuses.record(answer.status);
    if (answer.status === 200) {
      const crt = (JSON.parse(answer.body) as { crt: string }).crt;
      const issued = new X509Certificate(crt);
      expect(issued.checkIssued(new X509Certificate(bundle.certs.os.crt)), input).to.equal(true);
      expect(Date.parse(issued.validTo), `${input}: notAfter "${issued.validTo}"`).to.be.greaterThan(Date.now());
    } else {
      expect(answer.status, `${input}: answered ${answer.status} ${answer.body.slice(0, 300)}`).to.be.within(400, 499);
      expect(isJsonRefusal(answer), `${input}: a refusal without a JSON error: ${answer.body.slice(0, 300)}`).to.equal(true);
    }
    expect(await h.node.state.revision(), `${input}: trustd changed the store`).to.equal(before);
  }

  const authorization = fc.oneof(
    { weight: 6, arbitrary: fc.constant(`Bearer ${token}`) },
    { weight: 1, arbitrary: fc.constantFrom(`bearer\t${token} `, `Bearer ${token}x`, `Bearer  ${token.toUpperCase()}`, 'Bearer', '', `Basic ${token}`, `Bearer ${token} ${token}`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 20 }).filter((s) => /^[\x20-\x7e]*$/.test(s)) },
  );

  it('signs a mutated CSR or refuses it with a JSON 400', async () => {
    const der = fc.constantFrom(...csrs).chain((pem) => mutationOf(decodePem(pem).der)).map((m) => encodePem('CERTIFICATE REQUEST', m.bytes));
    const csr = fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...csrs) }, { weight: 3, arbitrary: der }, { weight: 2, arbitrary: fc.constantFrom(...csrs).chain(textMutation) });
    const body = fc.oneof({ weight: 6, arbitrary: csr.map((c) => JSON.stringify({ csr: c })) }, { weight: 1, arbitrary: jsonValue.map((v) => JSON.stringify(v)) }, { weight: 1, arbitrary: fc.constantFrom('', '{', '{"csr": 1}', '{"csr": ""}', '{"csr": "x"}{}') });
    const request = fc.record({ body, authorization, contentType: fc.constantFrom('application/json', 'text/plain', '') });
    await fuzzAsync(
      'trustd: CSR bodies',
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = { authorization: r.authorization, 'content-length': String(Buffer.byteLength(r.body)) };
        if (r.contentType) headers['content-type'] = r.contentType;
        await expectClean('POST', '/v1/certificate', r.body, headers);
      }),
      60,
    );
    statuses.expectSomeAccepted();
  });

  it('answers any method and path with a JSON 4xx unless it is POST /v1/certificate', async () => {
    const path = fc.oneof(
      fc.constantFrom('/v1/certificate', '/v1/certificate?x=1', '/v1/certificate/', '/v1/Certificate', '/', '/v1', '//v1/certificate', '/v1/certificate#x'),
      fc.array(fc.string({ maxLength: 8, unit: 'grapheme' }).map(encodeURIComponent), { maxLength: 3 }).map((p) => `/${p.join('/')}`),
    );
    const request = fc.record({ method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'), path, authorization });
    await fuzzAsync(
      'trustd: paths and methods',
      fc.asyncProperty(request, async (r) => {
        const body = JSON.stringify({ csr: csrs[0] });
        await expectClean(r.method, r.path, body, { authorization: r.authorization, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      }),
      40,
    );
    statuses.expectSomeAccepted();
  });
});
