// Fuzzes every apid route over real mTLS: paths, methods, headers and JSON bodies. Every answer is below 500; every
// refusal is a 4xx with {"error": "..."} and leaves the store at the revision it had (nothing written).
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { parse } from 'yaml';
import { encodePemField, parseMachineConfig } from '../../src/config/index.js';
import { createCA, decodePem, encodePem, encodePrivateKeyPem } from '../../src/pki/index.js';
import { KnownNodes } from '../../src/server/apid/known-nodes.js';
import { parseNodeAddress } from '../../src/server/apid/node-address.js';
import { ApidHarness } from '../server/apid-harness.js';
import type { Credential } from '../server/apid-harness.js';
import { describeInput } from './clean-outcome.js';
import { fuzzAsync } from './fuzz-settings.js';
import { StatusTally, isJsonRefusal, jsonBodyValue, rawRequest, withProtoKey } from './http-request.js';
import type { RawAnswer } from './http-request.js';
import { aliasedTreeText } from './alias-inputs.js';
import { FIELD_PATHS, jsonPatchText, strategicPatchText } from './patch-inputs.js';
import { fieldValue, textMutation, yamlishString } from './text-inputs.js';

const jsonValue = jsonBodyValue;

/** Any JSON object body with `fields` mixed in (under a `__proto__` key too), or text that is not JSON at all. */
function body(fields: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fields.map((f) => JSON.stringify(f)) },
    // what a prototype-polluting client sends: the fields it may not set, under __proto__ beside (or instead of) its own
    { weight: 1, arbitrary: fields.map((f) => JSON.stringify(withProtoKey({ roles: ['os:admin'], ttlHours: 1e12, dryRun: false, yaml: 'x', ca: 'os' }, f))) },
    { weight: 1, arbitrary: jsonValue.map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', '{"yaml": ', '[1,2', 'yaml: x', '\u0000', '{"a":1}{"b":2}', 'null', '{"__proto__": null}') },
  );
}

// Trustplane-Node: apid forwards a call only to a node it knows (known-nodes.ts) and refuses any other with "unknown
// node" before dialling. So that no case dials out, the values are this node on loopback ("SELF" becomes its
// 127.0.0.1:port), other loopback forms, addresses that do not parse, and names under .invalid; and expectClean skips
// (fc.pre) any value that the node's state makes known at a host other than 127.0.0.1, whatever the generator did.
const NODE_SELF = 'SELF';
const nodeHeader = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(NODE_SELF, '127.0.0.1', '127.0.0.1:1', '[::1]', '::1', 'localhost', 'LOCALHOST.') },
  { weight: 2, arbitrary: fc.constantFrom(' ', ':', ':50000', '[', '[]', '[::1', '127.0.0.1:0', '127.0.0.1:99999', '127.0.0.1:x', '127.0.0.1:', 'a:b:c', '[::1]:port', '[::1]x', '%', '127.0.0.1,127.0.0.1') },
  { weight: 2, arbitrary: fc.tuple(fc.stringMatching(/^[a-z0-9-]{1,12}$/), fc.option(fc.integer({ min: 0, max: 70000 }), { nil: undefined })).map(([name, port]) => `${name}.invalid${port === undefined ? '' : `:${port}`}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).filter((v) => /^[\x21-\x7e]*$/.test(v)) },
);

const headerValue = fc.oneof(fc.constantFrom('', 'application/json', 'text/plain', 'os:admin', 'os:impersonator', 'os:admin,os:impersonator', 'os:reader'), fc.string({ maxLength: 12 }).filter((s) => /^[\x20-\x7e]*$/.test(s)));
// one request in eight names a node: most of those are refused, and the calls themselves must still be reached
const headers = fc
  .tuple(fc.record({ 'content-type': headerValue, 'trustplane-roles': headerValue, accept: headerValue }, { requiredKeys: [] }), fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: nodeHeader }))
  .map(([h, node]): Record<string, string> => (node === undefined ? h : { ...h, 'trustplane-node': node }));

describe('fuzz: apid routes (real mTLS, real SQLite)', function () {
  this.timeout(300_000);
  let h: ApidHarness;
  let known: KnownNodes;
  let admin: Credential;
  let reader: Credential;
  let configYaml: string;
  let pems: string[];
  let otherCA: { crt: string; key: string };

  before(async () => {
    h = await ApidHarness.start();
    known = new KnownNodes(h.node.node.state, h.apid.port);
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

  /**
   * Every resource's version, except the audit trail's: a refused call is recorded there (who, from where, why), which
   * is the one write a refusal must make.
   */
  async function storeVersions(): Promise<Record<string, number>> {
    const { state, registry } = h.node.node;
    const versions: Record<string, number> = {};
    for (const def of registry.all().filter((d) => d.namespace !== 'audit')) {
      for (const r of await state.list({ namespace: def.namespace, type: def.type })) versions[`${def.type}/${r.metadata.id}`] = r.metadata.version;
    }
    return versions;
  }

  /** Sends one request and checks the invariant; a refused request must leave every resource as it was. */
  async function expectClean(cred: Credential, method: string, path: string, text?: string, given: Record<string, string> = {}): Promise<RawAnswer> {
    await h.node.settle();
    const extra = await withNodeHeader(given);
    const before = await storeVersions();
    const input = `${method} ${path} as ${cred.name} ${describeInput(text ?? '')} ${JSON.stringify(extra)}`;
    const sent: Record<string, string> = { ...extra, ...(text !== undefined ? { 'content-length': String(Buffer.byteLength(text)) } : {}) };
    const answer = await rawRequest({ port: h.apid.port, caPem: h.caPem, cert: cred.crt, key: cred.key, method, path, headers: sent, body: text });
    statuses.record(answer.status);
    if (process.env.FUZZ_TRACE) console.log(answer.status, input.slice(0, 200), answer.body.slice(0, 200));
    expect(answer.status, `${input}: answered ${answer.status} ${answer.body.slice(0, 300)}`).to.be.within(200, 499);
    if (answer.status >= 400) {
      expect(isJsonRefusal(answer), `${input}: a refusal without a JSON error: ${answer.body.slice(0, 300)}`).to.equal(true);
      await h.node.settle();
      expect(await storeVersions(), `${input}: refused with ${answer.status}, yet the store changed`).to.deep.equal(before);
    }
    return answer;
  }

  /** Puts this node's port into a SELF node header, and skips a case whose node header could dial another host. */
  async function withNodeHeader(headers: Record<string, string>): Promise<Record<string, string>> {
    const value = headers['trustplane-node'];
    if (value === undefined) return headers;
    const target = value === NODE_SELF ? h.address : value;
    let address;
    try {
      address = parseNodeAddress(target, h.apid.port);
    } catch {
      return { ...headers, 'trustplane-node': target }; // refused as it is read, before anything is dialled
    }
    fc.pre(address.host === '127.0.0.1' || !(await known.includes(address)));
    return { ...headers, 'trustplane-node': target };
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
      // escapes that do not decode (a lone %, bad hex, a cut or invalid UTF-8 sequence), and ones that decode to / or %
      fc.constantFrom('%', '%zz', '%4', '%E0%A4%A', '%ff', '%C0%AF', '%ED%A0%80', '%00', '%2F', '%2e%2e', '%25', 'mc%'),
      fc.tuple(fc.string({ maxLength: 6, unit: 'grapheme' }).map(encodeURIComponent), fc.constantFrom('%', '%f', '%G0', '%80')).map(([a, b]) => a + b),
    );
    const query = fc.record({ namespace: fc.string({ maxLength: 8 }), since: fc.oneof(fc.string({ maxLength: 6 }), fc.integer().map(String)) }, { requiredKeys: [] });
    const badQuery = fc.constantFrom('?since=%zz', '?namespace=%', '?since=%E0%A4%A', '?%=1', '?since=1&since=2', '?namespace=config%00');
    const type = fc.oneof(fc.constantFrom('MachineConfigs', 'mc', 'cs', 'certificatestatus', 'securitystatus', 'OSRootSecrets', 'carotation', 'eaca', 'xca'), segment);
    const routeShaped = fc.oneof(
      fc.tuple(fc.constantFrom('resources', 'watch'), type, fc.option(segment, { nil: undefined })).map(([call, t, id]) => ['v1', call, t, ...(id === undefined ? [] : [id])]),
      fc.constantFrom(['v1', 'version'], ['v1', 'etcd', 'snapshot'], ['v1', 'machineconfig'], ['v1', 'talosconfig'], ['v1', 'carotations']),
    );
    const parts = fc.oneof({ weight: 3, arbitrary: routeShaped }, { weight: 1, arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }) });
    const request = fc.record({
      cred: credential(),
      method: fc.constantFrom('GET', 'GET', 'GET', 'GET', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS'),
      path: fc.tuple(parts, fc.oneof({ weight: 4, arbitrary: query.map((q) => (Object.keys(q).length ? `?${new URLSearchParams(q).toString()}` : '')) }, { weight: 1, arbitrary: badQuery })).map(([p, q]) => `/${p.join('/')}${q}`),
      headers,
    });
    await fuzzAsync('apid: paths and methods', fc.asyncProperty(request, async (r) => void (await expectClean(r.cred, r.method, r.path, undefined, r.headers))), 40);
    statuses.expectSomeAccepted();
  });

  /** The stored config with anchored and aliased values (or a bomb) in its v1alpha1 document, the others kept. */
  function aliasedConfig(): fc.Arbitrary<string> {
    const [first, ...others] = configYaml.split('\n---\n');
    return aliasedTreeText(parse(first), FIELD_PATHS).map((text) => [text.trimEnd(), ...others].join('\n---\n'));
  }

  it('applies a fuzzed machine config (PUT /v1/machineconfig) or refuses it and stores nothing', async () => {
    const yaml = fc.oneof(textMutation(configYaml), yamlishString.map((t) => `version: v1alpha1\n${t}`), fc.constant(configYaml), fieldValue(pems), aliasedConfig());
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
    // some patches that apply, so that the call behind the refusals is reached (with aliases too)
    const applies = fc.constantFrom(['machine:\n  certSANs: [fuzz.example.com]\n'], ['machine:\n  certSANs: &s [a.example.com]\ncluster:\n  apiServer:\n    certSANs: *s\n']);
    const patches = fc.oneof(
      applies,
      fc.array(text, { minLength: 1, maxLength: 2 }),
      fc.array(fc.record({ source: fc.string({ maxLength: 8 }), text }), { minLength: 1, maxLength: 2 }),
      jsonValue,
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
