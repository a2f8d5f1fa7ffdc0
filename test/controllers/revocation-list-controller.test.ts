import { expect } from 'chai';
import { DateTime } from 'luxon';
import { issueClientCertificate } from '../../src/config/index.js';
import type { SecretsBundle } from '../../src/config/index.js';
import { CRL_VALIDITY_HOURS } from '../../src/controllers/revocation-list-controller.js';
import { RevocationLists, Revocations, revocationId, normalSerial } from '../../src/resources/index.js';
import type { CaName, RevocationListSpec, RevocationSpec } from '../../src/resources/index.js';
import { parseCertificatePem } from '../../src/pki/index.js';
import { NodeHarness, freshBundle } from './node-harness.js';
import { cleanupTempFiles, openssl, tempFile } from '../pki/openssl.js';

describe('RevocationListController: a CRL per CA, re-published on change and before nextUpdate', () => {
  let harness: NodeHarness;
  let bundle: SecretsBundle;
  const start = DateTime.utc().startOf('second');

  before(async () => {
    bundle = await freshBundle(start.minus({ minutes: 10 }).toJSDate());
    harness = await NodeHarness.start({ bundle, start });
  });
  after(async () => {
    await harness.destroy();
    cleanupTempFiles();
  });

  const crl = async (ca: CaName) => (await harness.node.state.get<RevocationListSpec>({ namespace: RevocationLists.namespace, type: RevocationLists.type, id: ca })).spec;
  const now = () => new Date(harness.clock.now().toMillis());
  const at = () => String(Math.floor(harness.clock.now().toMillis() / 1000));

  async function revoke(crt: string, reason: string): Promise<RevocationSpec> {
    const cert = parseCertificatePem(crt);
    const spec: RevocationSpec = {
      ca: 'os',
      serial: normalSerial(cert.serialNumber),
      subject: cert.subject,
      fingerprint: cert.fingerprint256,
      names: [],
      publicKey: '',
      notAfter: new Date(cert.validTo).toISOString(),
      reason,
      reasonCode: 'keyCompromise',
      revokedAt: now().toISOString(),
      revokedBy: 'test',
    };
    await harness.node.state.create({ metadata: { namespace: Revocations.namespace, type: Revocations.type, id: revocationId('os', spec.serial) }, spec });
    await harness.settle();
    return spec;
  }

  it('publishes an empty CRL of each of the four CAs, each verified by openssl against its CA', async () => {
    const cas: Record<CaName, string> = { os: bundle.certs.os.crt, kubernetes: bundle.certs.k8s.crt, etcd: bundle.certs.etcd.crt, aggregator: bundle.certs.k8sAggregator.crt };
    for (const [name, caPem] of Object.entries(cas) as [CaName, string][]) {
      const list = await crl(name);
      expect(list.number, name).to.equal(1);
      expect(list.serials, name).to.deep.equal([]);
      expect(openssl(['crl', '-in', tempFile(list.pem), '-CAfile', tempFile(caPem), '-noout']).out, name).to.match(/verify OK/);
    }
  });

  it('lists a revoked certificate with its reason code: openssl verify -crl_check refuses it and accepts another', async () => {
    const leaked = await issueClientCertificate(bundle.certs.os, { roles: ['os:admin'], now: now(), validityHours: 10 * 24 });
    const other = await issueClientCertificate(bundle.certs.os, { roles: ['os:admin'], now: now() });
    const before = (await crl('os')).number;
    const revoked = await revoke(leaked.crt, 'laptop stolen');
    const list = await crl('os');
    expect(list.number).to.equal(before + 1);
    expect(list.serials).to.deep.equal([revoked.serial]);
    const crlFile = tempFile(list.pem);
    const caFile = tempFile(bundle.certs.os.crt);
    const refused = openssl(['verify', '-attime', at(), '-crl_check', '-CRLfile', crlFile, '-CAfile', caFile, tempFile(leaked.crt)]);
    expect(refused.ok).to.equal(false);
    expect(refused.out).to.match(/certificate revoked/);
    const accepted = openssl(['verify', '-attime', at(), '-crl_check', '-CRLfile', crlFile, '-CAfile', caFile, tempFile(other.crt)]);
    expect(accepted.ok, accepted.out).to.equal(true);
    expect(openssl(['crl', '-in', crlFile, '-noout', '-text']).out).to.match(/CRL Reason Code:\s*\n\s*Key Compromise/);
    // The other CAs' CRLs did not change.
    expect((await crl('etcd')).number).to.equal(1);
  });

  it('re-publishes halfway to nextUpdate on the manual clock, with a higher CRL number and a later nextUpdate', async () => {
    const first = await crl('os');
    await harness.clock.advance({ hours: CRL_VALIDITY_HOURS / 2 - 1 });
    await harness.settle();
    expect((await crl('os')).number, 'not before halfway').to.equal(first.number);
    await harness.clock.advance({ hours: 1 });
    await harness.settle();
    const next = await crl('os');
    expect(next.number).to.equal(first.number + 1);
    expect(Date.parse(next.nextUpdate)).to.be.greaterThan(Date.parse(first.nextUpdate));
    expect(Date.parse(next.thisUpdate)).to.be.lessThan(Date.parse(first.nextUpdate));
    expect(next.serials).to.deep.equal(first.serials);
    const text = openssl(['crl', '-in', tempFile(next.pem), '-noout', '-text', '-CAfile', tempFile(bundle.certs.os.crt)]).out;
    expect(text).to.match(/verify OK/);
    expect(text).to.match(new RegExp(`X509v3 CRL Number:\\s*\\n\\s*${next.number}\\b`));
  });

  it('drops an entry once its certificate has expired', async () => {
    const listed = await crl('os');
    expect(listed.serials).to.have.length(1);
    await harness.clock.advance({ hours: 10 * 24 });
    await harness.settle();
    const after = await crl('os');
    expect(after.serials).to.deep.equal([]);
    expect(after.number).to.be.greaterThan(listed.number);
    expect(openssl(['crl', '-in', tempFile(after.pem), '-noout', '-text']).out).to.match(/No Revoked Certificates/);
  });
});
