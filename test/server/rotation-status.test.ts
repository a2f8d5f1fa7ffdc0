import { expect } from 'chai';
import { DateTime } from 'luxon';
import { CARotations, ROTATION_DRIVER_OWNER, SECURITY_STATUS_ID, SecurityStatuses } from '../../src/resources/index.js';
import type { CARotationSpec, SecurityStatusSpec } from '../../src/resources/index.js';
import { caFieldsAt } from '../../src/server/rotation/index.js';
import { caFieldsFor } from '../../src/server/rotation/rotation-plan.js';
import { requestVerdict } from '../../src/server/trustd-client/request-policy.js';
import { createCA, issueCertificateAndKey } from '../../src/pki/index.js';
import { NodeHarness, fixtureBundle } from '../controllers/node-harness.js';

const rotation = (phase: CARotationSpec['phase']): CARotationSpec => ({
  ca: 'os',
  phase,
  nodes: [{ address: '10.5.0.2:50000', role: 'controlplane', phase }],
  newCA: { subject: 'O=talos', fingerprint: 'AA:BB', notAfter: '2036-01-01T00:00:00.000Z' },
  oldCA: { subject: 'O=talos', fingerprint: 'CC:DD' },
  started: '2026-01-01T00:00:00.000Z',
  updated: '2026-01-01T00:00:00.000Z',
});

describe('CA rotation state on one node', () => {
  let harness: NodeHarness;
  before(async () => {
    harness = await NodeHarness.start({ bundle: fixtureBundle(), start: DateTime.utc() });
  });
  after(async () => harness?.destroy());

  const status = async () => (await harness.node.state.get<SecurityStatusSpec>({ namespace: SecurityStatuses.namespace, type: SecurityStatuses.type, id: SECURITY_STATUS_ID })).spec;
  const at = { namespace: CARotations.namespace, type: CARotations.type, id: 'os' };

  it('lists an unfinished rotation in SecurityStatus.rotationInProgress, and drops it once Done', async () => {
    expect((await status()).rotationInProgress).to.deep.equal([]);
    await harness.node.state.create({ metadata: at, spec: rotation('NewCAIssuing') }, { owner: ROTATION_DRIVER_OWNER });
    await harness.settle();
    expect((await status()).rotationInProgress).to.deep.equal(['os: NewCAIssuing']);
    await harness.node.state.modify<CARotationSpec>(at, () => ({ spec: rotation('Done') }), { owner: ROTATION_DRIVER_OWNER });
    await harness.settle();
    expect((await status()).rotationInProgress).to.deep.equal([]);
  });

  it('refuses a CARotation that carries a key or lacks its nodes (the resource is validated on write)', async () => {
    const bad = { ...rotation('Staged'), newCA: { ...rotation('Staged').newCA, key: 'x' } };
    await expectRejection(harness.node.state.create({ metadata: { ...at, id: 'kubernetes' }, spec: bad }, { owner: ROTATION_DRIVER_OWNER }), /newCA/);
    await expectRejection(harness.node.state.create({ metadata: { ...at, id: 'kubernetes' }, spec: { ...rotation('Staged'), nodes: [] } }, { owner: ROTATION_DRIVER_OWNER }), /nodes/);
  });
});

describe('what each rotation phase asks of a node config (caFieldsAt)', () => {
  const old = { crt: 'OLD', key: 'old-key' };
  const next = { crt: 'NEW', key: 'new-key' };
  const controlPlane = { ca: old, accepted: ['OTHER'] };
  const worker = { ca: { crt: 'OLD', key: '' }, accepted: [] as string[] };

  it('walks a control plane from the old CA to the new one, keeping unrelated accepted CAs', () => {
    const accepted = caFieldsAt('NewCAAccepted', controlPlane, old, next);
    expect(accepted).to.deep.equal({ ca: old, accepted: ['OTHER', 'NEW'] });
    const issuing = caFieldsAt('NewCAIssuing', accepted, old, next);
    expect(issuing).to.deep.equal({ ca: next, accepted: ['OTHER', 'OLD'] });
    expect(caFieldsAt('LeavesReissued', issuing, old, next)).to.deep.equal(issuing);
    expect(caFieldsAt('OldCADropped', issuing, old, next)).to.deep.equal({ ca: next, accepted: ['OTHER'] });
  });

  it('never gives a worker the new key, and is idempotent at every phase', () => {
    let fields = worker;
    for (const phase of ['NewCAAccepted', 'NewCAIssuing', 'LeavesReissued', 'OldCADropped', 'Done'] as const) {
      fields = caFieldsAt(phase, fields, old, next);
      expect(caFieldsAt(phase, fields, old, next), phase).to.deep.equal(fields);
      expect(fields.ca.key, phase).to.equal('');
    }
    expect(fields).to.deep.equal({ ca: { crt: 'NEW', key: '' }, accepted: [] });
  });
});

describe('what each rotation phase asks of an etcd or aggregator CA (caFieldsFor, with ExtraAcceptedCAs as the accepted list)', () => {
  const old = { crt: 'OLD', key: 'old-key' };
  const next = { crt: 'NEW', key: 'new-key' };

  it('changes one thing per phase: both CAs extra at NewCAAccepted, the issuing CA at NewCAIssuing, the extras gone at OldCADropped', () => {
    const staged = { ca: old, accepted: ['OTHER'] };
    expect(caFieldsFor('etcd', 'Staged', staged, old, next)).to.deep.equal(staged);
    const accepted = caFieldsFor('etcd', 'NewCAAccepted', staged, old, next);
    expect(accepted).to.deep.equal({ ca: old, accepted: ['OTHER', 'OLD', 'NEW'] });
    const issuing = caFieldsFor('etcd', 'NewCAIssuing', accepted, old, next);
    expect(issuing).to.deep.equal({ ca: next, accepted: ['OTHER', 'OLD', 'NEW'] });
    expect(caFieldsFor('etcd', 'LeavesReissued', issuing, old, next)).to.deep.equal(issuing);
    expect(caFieldsFor('etcd', 'OldCADropped', issuing, old, next)).to.deep.equal({ ca: next, accepted: ['OTHER'] });
    expect(caFieldsFor('etcd', 'Done', caFieldsFor('etcd', 'OldCADropped', issuing, old, next), old, next)).to.deep.equal({ ca: next, accepted: ['OTHER'] });
  });

  it('is idempotent at every phase, keeps the key off a config that had none, and leaves a config without the CA alone', () => {
    let fields = { ca: { crt: 'OLD', key: '' }, accepted: [] as string[] };
    for (const phase of ['NewCAAccepted', 'NewCAIssuing', 'LeavesReissued', 'OldCADropped', 'Done'] as const) {
      fields = caFieldsFor('aggregator', phase, fields, old, next);
      expect(caFieldsFor('aggregator', phase, fields, old, next), phase).to.deep.equal(fields);
      expect(fields.ca.key, phase).to.equal('');
    }
    expect(fields).to.deep.equal({ ca: { crt: 'NEW', key: '' }, accepted: [] });
    const none = { ca: { crt: '', key: '' }, accepted: [] };
    for (const phase of ['NewCAAccepted', 'NewCAIssuing', 'Done'] as const) expect(caFieldsFor('etcd', phase, none, old, next), phase).to.deep.equal(none);
  });

  it('follows the machine config for the Talos API and Kubernetes CAs (caFieldsAt)', () => {
    const cp = { ca: old, accepted: [] };
    expect(caFieldsFor('kubernetes', 'NewCAAccepted', cp, old, next)).to.deep.equal(caFieldsAt('NewCAAccepted', cp, old, next));
  });
});

describe("a worker's trustd request after its issuing CA was rotated", () => {
  it('asks trustd again once when its certificate is from another CA than the issuing one, and not again after', async () => {
    const now = new Date();
    const oldCA = await createCA('os', { algorithm: 'ed25519', now: new Date(now.getTime() - 3_600_000) });
    const newCA = await createCA('os', { algorithm: 'ed25519', now: new Date(now.getTime() - 3_600_000) });
    const held = await issueCertificateAndKey(oldCA, 'node-server', { now: new Date(now.getTime() - 60_000), ipAddresses: ['10.5.0.3'] });
    const sans = { ips: ['10.5.0.3'], dnsNames: [] };
    const response = {
      crt: held.certPem, key: held.keyPem, ca: oldCA.certPem, sans, reason: 'DoesNotExist' as const, endpoint: '10.5.0.2:50001',
      requestedAt: new Date(now.getTime() - 60_000).toISOString(), renewAt: new Date(now.getTime() + 3_600_000).toISOString(),
    };
    const accepted = [oldCA.certPem, newCA.certPem];
    // the issuing CA changed after the request: one new request
    const rotated = { crt: newCA.certPem, since: new Date(now.getTime() - 1000).toISOString() };
    expect(requestVerdict({ response, sans, acceptedCAs: accepted, issuingCA: rotated, now })?.reason).to.equal('IncorrectIssuer');
    // a request made after the change that still got the old CA's certificate (the control plane not rotated yet): kept
    const after = { ...response, requestedAt: new Date(now.getTime() - 500).toISOString() };
    expect(requestVerdict({ response: after, sans, acceptedCAs: accepted, issuingCA: rotated, now })).to.equal(undefined);
    // issued by the issuing CA: kept
    expect(requestVerdict({ response, sans, acceptedCAs: accepted, issuingCA: { crt: oldCA.certPem, since: rotated.since }, now })).to.equal(undefined);
  });
});

async function expectRejection(p: Promise<unknown>, message: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect((err as Error).message).to.match(message);
    return;
  }
  expect.fail('the write was accepted');
}
