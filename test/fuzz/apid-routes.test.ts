// Fuzzes every apid route over real mTLS: paths, methods, headers and JSON bodies. Every answer is below 500; every
// refusal is a 4xx with {"error": "..."} and leaves the store at the revision it had (nothing written).
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { encodePemField, parseMachineConfig } from '../../src/config/index.js';
import { createCA, decodePem, encodePem, encodePrivateKeyPem } from '../../src/pki/index.js';
import { ApidHarness } from '../server/apid-harness.js';
import type { Credential } from '../server/apid-harness.js';
import { describeInput } from './clean-outcome.js';
import { fuzzAsync } from './fuzz-settings.js';
import { StatusTally, isJsonRefusal, jsonBodyValue, rawRequest } from './http-request.js';
import type { RawAnswer } from './http-request.js';
import { jsonPatchText, strategicPatchText } from './patch-inputs.js';
import { fieldValue, textMutation, yamlishString } from './text-inputs.js';

// Left out until the server work of issue 11 lands (re-admit them then): besides jsonBodyValue's classes, `%` escapes
// that do not decode (segments here are always encodeURIComponent'd). Nor is the Trustplane-Node header fuzzed:
// forwarding to a fuzzed address is the forwarding item's, and would dial out.
const jsonValue = jsonBodyValue;

/** Any JSON object body with `fields` mixed in, or text that is not JSON at all. */
function body(fields: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fields.map((f) => JSON.stringify(f)).filter((t) => !t.includes('"__proto__"')) },
    { weight: 1, arbitrary: jsonValue.map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', '{"yaml": ', '[1,2', 'yaml: x', '\u0000', '{"a":1}{"b":2}') },
  );
}

const headerValue = fc.oneof(fc.constantFrom('', 'application/json', 'text/plain', 'os:admin', 'os:impersonator', 'os:admin,os:impersonator', 'os:reader'), fc.string({ maxLength: 12 }).filter((s) => /^[\x20-\x7e]*$/.test(s)));
const headers = fc.record({ 'content-type': headerValue, 'trustplane-roles': headerValue, accept: headerValue }, { requiredKeys: [] });

describe('fuzz: apid routes (real mTLS, real SQLite)', function () {
  this.timeout(300_000);
  let h: ApidHarness;
  let admin: Credential;
  let reader: Credential;
  let configYaml: string;
  let pems: string[];
  let otherCA: { crt: string; key: string };

  before(async () => {
    h = await ApidHarness.start();
    admin = await h.role('os:admin');
    reader = await h.role('os:reader');
    const stored = await h.node.node.state.get<{ yaml: string }>({ namespace: 'config', type: 'MachineConfigs', id: 'v1alpha1' });
    configYaml = stored.spec.yaml;
    pems = [h.bundle.certs.os.crt, h.bundle.certs.os.key, h.bundle.certs.etcd.crt, h.bundle.certs.k8s.key];
    const ca = await createCA('etcd', { algorithm: 'ecdsa' });
    otherCA = { crt: ca.certPem, key: encodePrivateKeyPem(ca.key) };
  });
  after(async () => h.close());
  const statuses = new StatusTally();
  afterEach(() => statuses.reset());

  /** Sends one request and checks the invariant; a refused request must leave the store's revision unchanged. */
  async function expectClean(cred: Credential, method: string, path: string, text?: string, extra: Record<string, string> = {}): Promise<RawAnswer> {
    await h.node.settle();
    const before = await h.node.node.state.revision();
    const input = `${method} ${path} as ${cred.name} ${describeInput(text ?? '')} ${JSON.stringify(extra)}`;
    const sent: Record<string, string> = { ...extra, ...(text !== undefined ? { 'content-length': String(Buffer.byteLength(text)) } : {}) };
    const answer = await rawRequest({ port: h.apid.port, caPem: h.caPem, cert: cred.crt, key: cred.key, method, path, headers: sent, body: text });
    statuses.record(answer.status);
    if (process.env.FUZZ_TRACE) console.log(answer.status, input.slice(0, 200), answer.body.slice(0, 200));
    expect(answer.status, `${input}: answered ${answer.status} ${answer.body.slice(0, 300)}`).to.be.within(200, 499);
    if (answer.status >= 400) {
      expect(isJsonRefusal(answer), `${input}: a refusal without a JSON error: ${answer.body.slice(0, 300)}`).to.equal(true);
      await h.node.settle();
      expect(await h.node.node.state.revision(), `${input}: refused with ${answer.status}, yet the store changed`).to.equal(before);
    }
    return answer;
  }

  const credential = () => fc.constantFrom(admin, admin, admin, reader);

  it('answers 400, writing nothing, to a !!binary patch and to a config whose CA key cannot be decoded (fuzz findings: both were 500s)', async () => {
    const patch = await expectClean(admin, 'PATCH', '/v1/machineconfig', JSON.stringify({ patches: ['machine:\n  x: !!binary aGVsbG8=\n'] }));
    expect(patch.status).to.equal(400);
    expect(patch.body).to.include('YAML tag !!binary is not supported in patches');
    const der = Buffer.from(decodePem(h.bundle.certs.k8s.crt).der);
    der[der.indexOf(Buffer.from('06082a8648ce3d030107', 'hex')) + 9] = 0x7f; // prime256v1 -> an unknown curve
    const yaml = configYaml.replace(encodePemField(h.bundle.certs.k8s.crt), encodePemField(encodePem('CERTIFICATE', der)));
    expect(yaml).to.not.equal(configYaml);
    const apply = await expectClean(admin, 'PUT', '/v1/machineconfig', JSON.stringify({ yaml }));
    expect(apply.status).to.equal(400);
    expect(apply.body).to.include('cluster.ca.crt: crt: not a valid X.509 certificate');
  });

  it('refuses a lifetime past what a Date holds and cuts the longest allowed one to the CA (fuzz finding: ttlHours 1e12 gave a notAfter of "Bad time value")', async () => {
    const huge = await expectClean(admin, 'POST', '/v1/talosconfig', JSON.stringify({ roles: ['os:reader'], ttlHours: 1e12 }));
    expect(huge.status).to.equal(400);
    expect(huge.body).to.match(/ttlHours/);
    const longest = await expectClean(admin, 'POST', '/v1/talosconfig', JSON.stringify({ roles: ['os:reader'], ttlHours: 876000 }));
    expect(longest.status).to.equal(200);
    const crt = new X509Certificate((JSON.parse(longest.body) as { crt: string }).crt);
    expect(crt.validTo).to.equal(new X509Certificate(h.caPem).validTo);
  });

  it('answers any method on any path with a result or a JSON 4xx', async () => {
    const segment = fc.oneof(
      fc.constantFrom('v1', 'resources', 'watch', 'machineconfig', 'talosconfig', 'carotations', 'extraacceptedcas', 'crosssignedcas', 'etcd', 'snapshot', 'version'),
      fc.constantFrom('MachineConfigs', 'mc', 'cs', 'certificatestatus', 'securitystatus', 'OSRootSecrets', 'carotation', 'eaca', 'xca', 'os', 'etcd', 'aggregator', 'api', ''),
      fc.string({ maxLength: 10, unit: 'grapheme' }).map(encodeURIComponent),
    );
    const query = fc.record({ namespace: fc.string({ maxLength: 8 }), since: fc.oneof(fc.string({ maxLength: 6 }), fc.integer().map(String)) }, { requiredKeys: [] });
    const type = fc.oneof(fc.constantFrom('MachineConfigs', 'mc', 'cs', 'certificatestatus', 'securitystatus', 'OSRootSecrets', 'carotation', 'eaca', 'xca'), segment);
    const routeShaped = fc.oneof(
      fc.tuple(fc.constantFrom('resources', 'watch'), type, fc.option(segment, { nil: undefined })).map(([call, t, id]) => ['v1', call, t, ...(id === undefined ? [] : [id])]),
      fc.constantFrom(['v1', 'version'], ['v1', 'etcd', 'snapshot'], ['v1', 'machineconfig'], ['v1', 'talosconfig'], ['v1', 'carotations']),
    );
    const parts = fc.oneof({ weight: 3, arbitrary: routeShaped }, { weight: 1, arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }) });
    const request = fc.record({
      cred: credential(),
      method: fc.constantFrom('GET', 'GET', 'GET', 'GET', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS'),
      path: fc.tuple(parts, query).map(([p, q]) => `/${p.join('/')}${Object.keys(q).length ? `?${new URLSearchParams(q).toString()}` : ''}`),
      headers,
    });
    await fuzzAsync('apid: paths and methods', fc.asyncProperty(request, async (r) => void (await expectClean(r.cred, r.method, r.path, undefined, r.headers))), 40);
    statuses.expectSomeAccepted();
  });

  it('applies a fuzzed machine config (PUT /v1/machineconfig) or refuses it and stores nothing', async () => {
    const yaml = fc.oneof(textMutation(configYaml), yamlishString.map((t) => `version: v1alpha1\n${t}`), fc.constant(configYaml), fieldValue(pems));
    const request = fc.record({ cred: credential(), body: body(fc.record({ yaml, dryRun: fc.oneof(fc.boolean(), jsonValue) }, { requiredKeys: [] })), headers });
    await fuzzAsync('apid: PUT /v1/machineconfig', fc.asyncProperty(request, async (r) => void (await expectClean(r.cred, 'PUT', '/v1/machineconfig', r.body, r.headers))), 30);
    statuses.expectSomeAccepted();
    // the node still holds a machine config that parses
    const stored = await h.node.node.state.get<{ yaml: string }>({ namespace: 'config', type: 'MachineConfigs', id: 'v1alpha1' });
    expect(() => parseMachineConfig(stored.spec.yaml)).to.not.throw();
  });

  it('patches the machine config (PATCH /v1/machineconfig) or refuses the patches and stores nothing', async () => {
    const values = fieldValue(pems);
    const text = fc.oneof(strategicPatchText(values), jsonPatchText(values));
    const patches = fc.oneof(
      fc.array(text, { minLength: 1, maxLength: 2 }),
      fc.array(fc.record({ source: fc.string({ maxLength: 8 }), text }), { minLength: 1, maxLength: 2 }),
      // its strings are patch texts: no `&` or `*` (YAML anchors and aliases are issue 11's aliases item)
      jsonValue.filter((v) => !/[&*]/.test(JSON.stringify(v))),
    );
    const request = fc.record({ cred: credential(), body: body(fc.record({ patches, dryRun: fc.boolean() }, { requiredKeys: [] })), headers });
    await fuzzAsync('apid: PATCH /v1/machineconfig', fc.asyncProperty(request, async (r) => void (await expectClean(r.cred, 'PATCH', '/v1/machineconfig', r.body, r.headers))), 30);
    statuses.expectSomeAccepted();
  });

  it('issues a client certificate (POST /v1/talosconfig) or refuses the roles and lifetime', async () => {
    const roles = fc.oneof(
      { weight: 2, arbitrary: fc.subarray(['os:admin', 'os:reader', 'os:operator', 'os:etcd:backup', 'os:impersonator'], { minLength: 1 }) },
      { weight: 1, arbitrary: fc.array(fc.oneof(fc.constantFrom('os:admin', 'admin', ''), fc.string({ maxLength: 6 })), { maxLength: 3 }) },
      { weight: 1, arbitrary: jsonValue },
    );
    const ttlHours = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(1, 24, 0, -1, 0.0001, 8760, 87600, 1e6, 1e12, 1e308, '24') }, { weight: 1, arbitrary: fc.double() }, { weight: 1, arbitrary: jsonValue });
    const request = fc.record({ cred: credential(), body: body(fc.record({ roles, ttlHours }, { requiredKeys: [] })), headers });
    const ca = new X509Certificate(h.caPem);
    await fuzzAsync(
      'apid: POST /v1/talosconfig',
      fc.asyncProperty(request, async (r) => {
        const answer = await expectClean(r.cred, 'POST', '/v1/talosconfig', r.body, r.headers);
        if (answer.status !== 200) return;
        // what is issued is a certificate with a real lifetime, inside the CA's
        const crt = new X509Certificate((JSON.parse(answer.body) as { crt: string }).crt);
        expect(Date.parse(crt.validTo), `${r.body}: notAfter "${crt.validTo}"`).to.be.at.most(Date.parse(ca.validTo));
        expect(crt.checkIssued(ca)).to.equal(true);
      }),
      30,
    );
    statuses.expectSomeAccepted();
  });

  it('starts a CA rotation (POST /v1/carotations) only for a valid request, and refuses the rest writing nothing', async () => {
    const pem = fc.oneof(fc.constantFrom(...pems, otherCA.crt, otherCA.key), fc.constantFrom(...pems, otherCA.crt, otherCA.key).chain(textMutation), jsonValue);
    const newCA = fc.oneof({ weight: 2, arbitrary: fc.constant(otherCA) }, { weight: 2, arbitrary: fc.record({ crt: pem, key: pem }) }, { weight: 1, arbitrary: jsonValue });
    const address = fc.oneof(fc.constantFrom('10.5.0.2:50000', '[fd00::1]:50000', 'cp-1', ':50000', '10.5.0.2:99999', ''), fc.string({ maxLength: 8 }));
    const addresses = fc.oneof({ weight: 2, arbitrary: fc.constant(['10.5.0.2:50000']) }, { weight: 2, arbitrary: fc.array(address, { maxLength: 3 }) }, { weight: 1, arbitrary: jsonValue });
    const ca = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('os', 'kubernetes', 'etcd', 'aggregator') }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom('OS', ''), jsonValue) });
    const fields = fc.record({ ca, newCA, controlPlanes: addresses, workers: addresses }, { requiredKeys: ['ca', 'newCA', 'controlPlanes'] });
    const request = fc.record({ cred: credential(), body: body(fields), headers });
    await fuzzAsync('apid: POST /v1/carotations', fc.asyncProperty(request, async (r) => void (await expectClean(r.cred, 'POST', '/v1/carotations', r.body, r.headers))), 30);
    statuses.expectSomeAccepted();
  });

  it('sets a CA list (PUT /v1/extraacceptedcas/:ca, /v1/crosssignedcas/:ca) or refuses it writing nothing', async () => {
    const crt = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(otherCA.crt, h.caPem) }, { weight: 1, arbitrary: fc.constantFrom(...pems).chain(textMutation) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) });
    const reason = fc.oneof({ weight: 2, arbitrary: fc.constant('rotation') }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom('', '   '), jsonValue) });
    const fields = fc.record({ crts: fc.oneof({ weight: 3, arbitrary: fc.array(crt, { maxLength: 2 }) }, { weight: 1, arbitrary: jsonValue }), reason }, { requiredKeys: [] });
    const path = fc.constantFrom('/v1/extraacceptedcas/etcd', '/v1/extraacceptedcas/aggregator', '/v1/extraacceptedcas/os', '/v1/crosssignedcas/os', '/v1/crosssignedcas/etcd');
    const request = fc.record({ cred: credential(), path, body: body(fields), headers });
    await fuzzAsync('apid: PUT CA lists', fc.asyncProperty(request, async (r) => void (await expectClean(r.cred, 'PUT', r.path, r.body, r.headers))), 30);
    statuses.expectSomeAccepted();
  });
});
