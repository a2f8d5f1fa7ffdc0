import { expect } from 'chai';
import { issueClientCertificate } from '../../src/config/index.js';
import { createCA, encodePrivateKeyPem, parseCertificatePem } from '../../src/pki/index.js';
import { filter, firstValueFrom } from 'rxjs';
import { PRESENTED_AT, PRESENTED_FROM, normalSerial } from '../../src/resources/index.js';
import type { RevocationSpec, SecurityStatusSpec } from '../../src/resources/index.js';
import type { RevocationEvent } from '../../src/server/revocation/index.js';
import { ApidHarness, RawBody } from './apid-harness.js';
import type { Credential } from './apid-harness.js';
import { KeptAliveClient, storedRevocations } from './revocation-support.js';

const VERSION = '/v1/version';

describe('revocation over apid: trustctl revoke refuses one certificate from its next request on', function () {
  this.timeout(30_000);
  let h: ApidHarness;
  let admin: Credential;
  const events: RevocationEvent[] = [];

  before(async () => {
    h = await ApidHarness.start({ apid: { onRevocation: (e) => events.push(e) } });
    admin = await h.role('os:admin');
  });
  after(async () => h.close());
  afterEach(async () => {
    // Each test starts with no revocation in force.
    for (const r of await storedRevocations(h.node.node.state)) await h.node.node.state.destroy({ namespace: 'secrets', type: 'Revocations', id: `${r.ca}-${r.serial}` });
    events.length = 0;
  });

  it('refuses a revoked talosconfig on its next call over a kept-alive connection while another keeps working, and --undo restores it', async () => {
    const leaked = await h.role('os:admin');
    const client = new KeptAliveClient(h.apid.port, h.caPem, leaked);
    const other = new KeptAliveClient(h.apid.port, h.caPem, await h.role('os:reader'));
    try {
      expect((await client.call('GET', VERSION)).status).to.equal(200);
      expect((await other.call('GET', VERSION)).status).to.equal(200);
      const revoked = await h.request(admin, 'POST', '/v1/revocations', { cert: leaked.crt, reason: 'laptop stolen' });
      expect(revoked.status, revoked.body).to.equal(200);
      const serial = normalSerial(parseCertificatePem(leaked.crt!).serialNumber);

      const refused = await client.call('GET', VERSION);
      expect(refused.reused, 'the same connection as before the revoke').to.equal(true);
      expect(refused.status).to.equal(401);
      expect(refused.json.error).to.match(new RegExp(`^certificate revoked \\(serial ${serial}, \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC: "laptop stolen"\\); get a new one with trustctl config new$`));
      // A new connection is refused too, and the other client is untouched.
      expect((await h.request(leaked, 'GET', VERSION)).status).to.equal(401);
      const still = await other.call('GET', VERSION);
      expect([still.status, still.reused]).to.deep.equal([200, true]);

      const lifted = await h.request(admin, 'POST', '/v1/revocations/lift', { serial, ca: 'os' });
      expect(lifted.status, lifted.body).to.equal(200);
      expect((await client.call('GET', VERSION)).status).to.equal(200);
      expect(await storedRevocations(h.node.node.state)).to.deep.equal([]);
      // The audit trail's hook hears both, with who asked (the admin's certificate subject).
      expect(events.map((e) => [e.action, e.revocation.serial])).to.deep.equal([
        ['revoked', serial],
        ['lifted', serial],
      ]);
      for (const e of events) expect(e.by).to.match(/O=os:admin/);
    } finally {
      client.close();
      other.close();
    }
  });

  it('records who, when, why, the RFC 5280 reason code and the certificate (subject, fingerprint, notAfter), once', async () => {
    const leaked = await h.role('os:operator');
    const answer = await h.request(admin, 'POST', '/v1/revocations', { cert: leaked.crt, reason: 'left the team', reasonCode: 'affiliationChanged' });
    expect(answer.status, answer.body).to.equal(200);
    const cert = parseCertificatePem(leaked.crt!);
    const [stored] = await storedRevocations(h.node.node.state);
    expect(stored).to.deep.include({
      ca: 'os',
      serial: normalSerial(cert.serialNumber),
      fingerprint: cert.fingerprint256,
      notAfter: new Date(cert.validTo).toISOString(),
      reason: 'left the team',
      reasonCode: 'affiliationChanged',
      revokedAt: h.now().toISOString(),
    });
    expect(stored.subject).to.match(/os:operator/);
    expect(stored.revokedBy).to.match(/os:admin/);
    const again = await h.request(admin, 'POST', '/v1/revocations', { cert: leaked.crt, reason: 'again' });
    expect(again.json.changed).to.equal(false);
    expect((await storedRevocations(h.node.node.state))[0].reason).to.equal('left the team');
  });

  for (const role of ['os:reader', 'os:operator'] as const) {
    it(`refuses revoke and its undo to ${role} (403) and writes nothing`, async () => {
      const caller = await h.role(role);
      const victim = await h.role('os:admin');
      const answer = await h.request(caller, 'POST', '/v1/revocations', { cert: victim.crt, reason: 'takeover' });
      expect([answer.status, answer.json.error]).to.deep.equal([403, 'not authorized']);
      const undo = await h.request(caller, 'POST', '/v1/revocations/lift', { cert: victim.crt });
      expect(undo.status).to.equal(403);
      expect(await storedRevocations(h.node.node.state)).to.deep.equal([]);
      expect((await h.request(victim, 'GET', VERSION)).status).to.equal(200);
    });
  }

  it('refuses hostile input with a 400 naming the field, and writes nothing', async () => {
    const victim = await h.role('os:admin');
    const foreignCA = await createCA('os', { now: h.now() });
    const foreign = await issueClientCertificate({ crt: foreignCA.certPem, key: encodePrivateKeyPem(foreignCA.key) }, { roles: ['os:admin'], now: h.now() });
    const cases: [string, unknown, RegExp][] = [
      ['a huge reason', { cert: victim.crt, reason: 'x'.repeat(100_000) }, /^reason: is 100000 characters; keep it to 200/],
      ['a reason with a newline', { cert: victim.crt, reason: 'ok\nFAKE LOG LINE' }, /^reason: contains a control character/],
      ['no reason', { cert: victim.crt }, /^reason: say in a few words why/],
      ['bad hex', { serial: 'not-hex!', ca: 'os', reason: 'r' }, /^serial: expected the certificate's serial number in hex/],
      ['an unknown CA', { serial: '4f', ca: 'acme', reason: 'r' }, /^ca: expected one of os, kubernetes, etcd, aggregator/],
      ['a serial whose CA is unknown', { serial: '4f', reason: 'r' }, /^ca: serial 4f is not a certificate this node holds, so its CA is unknown: add --ca os/],
      ['a non-PEM file', { cert: 'hello, I am not a certificate', reason: 'r' }, /^cert: no PEM block found/],
      ['a certificate from a foreign CA', { cert: foreign.crt, reason: 'r' }, /^cert: ".*os:admin.*" \(issuer ".*"\) was not issued by any of this cluster's CAs/],
      ['the CA itself', { cert: h.caPem, reason: 'r' }, /^cert: ".*" is a CA certificate: replace a CA with trustctl rotate-ca/],
      ['two selectors', { cert: victim.crt, serial: '4f', reason: 'r' }, /^certificate: give exactly one of --cert FILE, --serial HEX/],
      ['a fingerprint of nothing held', { fingerprint: 'AB'.repeat(32), reason: 'r' }, /^fingerprint: no certificate with this fingerprint is held by this node/],
      ['a bad reason code', { cert: victim.crt, reason: 'r', reasonCode: 'certificateHold' }, /^reason-code: expected one of unspecified, keyCompromise/],
      ['an unknown field', { cert: victim.crt, reason: 'r', by: 'someone else' }, /^by: not a field of a revocation/],
      ['a number for a serial', { serial: 79, ca: 'os', reason: 'r' }, /^serial: expected a string/],
      ['not JSON', new RawBody('{"cert":'), /^request body/],
    ];
    for (const [title, body, message] of cases) {
      const answer = await h.request(admin, 'POST', '/v1/revocations', body);
      expect(answer.status, title).to.equal(400);
      expect(answer.json.error, title).to.match(message);
    }
    expect(await storedRevocations(h.node.node.state)).to.deep.equal([]);
    expect(events).to.deep.equal([]);
    expect((await h.request(victim, 'GET', VERSION)).status).to.equal(200);
  });

  it('revokes by serial with --ca os (the CA\'s end standing for the unknown notAfter), and by fingerprint a certificate the node holds', async () => {
    const leaked = await h.role('os:admin');
    const serial = parseCertificatePem(leaked.crt!).serialNumber;
    const bySerial = await h.request(admin, 'POST', '/v1/revocations', { serial: serial.match(/../g)!.join(':'), ca: 'os', reason: 'serial from the audit log' });
    expect(bySerial.status, bySerial.body).to.equal(200);
    expect((await h.request(leaked, 'GET', VERSION)).status).to.equal(401);
    const [entry] = await storedRevocations(h.node.node.state);
    expect(entry.notAfter).to.equal(new Date(parseCertificatePem(h.caPem).validTo).toISOString());

    // The node's own apid server certificate, by fingerprint: its names are recorded (trustd refuses them).
    const served = (await h.node.node.state.get<{ certificates: Record<string, { crt: string }> }>({ namespace: 'secrets', type: 'ApiCertificates', id: 'api' })).spec.certificates.server.crt;
    const byFingerprint = await h.request(admin, 'POST', '/v1/revocations', { fingerprint: parseCertificatePem(served).fingerprint256.replace(/:/g, '').toLowerCase(), reason: 'node compromised' });
    expect(byFingerprint.status, byFingerprint.body).to.equal(200);
    const node = (await storedRevocations(h.node.node.state)).find((r) => r.reason === 'node compromised')!;
    expect(node.names).to.include('127.0.0.1');
    expect(node.publicKey).to.match(/^[0-9a-f]{64}$/);
  });

  it('says in SecurityStatus that a revoked certificate is still presented, and from where, writing at most once a minute', async () => {
    const leaked = await h.role('os:admin');
    const answer = await h.request(admin, 'POST', '/v1/revocations', { cert: leaked.crt, reason: 'laptop stolen' });
    const id = (answer.json.revocation as { metadata: { id: string } }).metadata.id;
    const pointer = { namespace: 'secrets', type: 'Revocations', id };
    const annotated = firstValueFrom(h.node.node.state.watch<RevocationSpec>(pointer).pipe(filter((e) => e.type === 'updated')));
    expect((await h.request(leaked, 'GET', VERSION)).status).to.equal(401);
    const event = await annotated;
    expect(event.resource?.metadata.annotations).to.deep.equal({ [PRESENTED_AT]: h.now().toISOString(), [PRESENTED_FROM]: '127.0.0.1' });
    const version = event.resource!.metadata.version;
    for (let i = 0; i < 5; i++) expect((await h.request(leaked, 'GET', VERSION)).status).to.equal(401);
    await h.node.settle();
    expect((await h.node.node.state.get(pointer)).metadata.version, 'no write per refusal').to.equal(version);
    const status = (await h.node.node.state.get<SecurityStatusSpec>({ namespace: 'runtime', type: 'SecurityStatuses', id: 'securitystatus' })).spec;
    const finding = status.findings.find((f) => f.code === 'RevokedCertificatePresented');
    expect(finding?.severity).to.equal('warning');
    expect(finding?.message).to.match(/^the revoked os certificate serial [0-9a-f]+ \(".*os:admin.*"\) was presented to apid at .* from 127\.0\.0\.1 and refused: whoever uses it needs a new one \(trustctl config new\)$/);
  });

  it('keeps a revocation in force when apid restarts (loaded before it listens)', async () => {
    const leaked = await h.role('os:admin');
    expect((await h.request(admin, 'POST', '/v1/revocations', { cert: leaked.crt, reason: 'stolen' })).status).to.equal(200);
    await h.restartApid();
    expect((await h.request(leaked, 'GET', VERSION)).status).to.equal(401);
    expect((await h.request(admin, 'GET', VERSION)).status).to.equal(200);
  });
});
