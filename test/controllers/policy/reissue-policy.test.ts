// The reissue policy chain, one check at a time: each reason fires on exactly the input that should make it, and the
// order decides when several would (the first check that fires gives the one reason shown to the user).
import { expect } from 'chai';
import { createCA, encodePrivateKeyPem, generateKeyPair, issueCertificateAndKey } from '../../../src/pki/index.js';
import type { CertificateAuthority } from '../../../src/pki/index.js';
import type { CertificateRequest, IssuedCertificate } from '../../../src/resources/common.js';
import { rememberIssuedPair, reissueVerdict } from '../../../src/controllers/policy/reissue-policy.js';
import { issueSet } from '../../../src/controllers/issuing/issue-set.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const HOUR = 3_600_000;

const wanted: CertificateRequest = {
  profile: 'node-server',
  commonName: 'cp-1',
  organizations: [],
  dnsNames: ['cp-1', 'localhost'],
  ipAddresses: ['10.5.0.2', '127.0.0.1'],
  validityHours: 24,
};

describe('reissue policy (one check at a time)', () => {
  let ca: CertificateAuthority;
  let otherCA: CertificateAuthority;
  let held: IssuedCertificate;

  before(async () => {
    ca = await createCA('os', { algorithm: 'ecdsa', now: new Date(NOW.getTime() - 24 * HOUR) });
    otherCA = await createCA('os', { algorithm: 'ecdsa', now: new Date(NOW.getTime() - 24 * HOUR) });
    const made = await issueCertificateAndKey(ca, 'node-server', { now: NOW, validityHours: 24, commonName: 'cp-1', dnsNames: wanted.dnsNames, ipAddresses: wanted.ipAddresses });
    held = { crt: made.certPem, key: made.keyPem, issuer: 'os', request: wanted, issuedAt: NOW.toISOString(), renewAt: new Date(NOW.getTime() + 16 * HOUR).toISOString(), reason: 'DoesNotExist' };
  });

  const at = (hours: number) => new Date(NOW.getTime() + hours * HOUR);

  it('keeps a matching, current certificate before its renewal time', () => {
    expect(reissueVerdict({ current: held, wanted, issuer: ca, now: at(1) })).to.equal(undefined);
  });

  it('DoesNotExist: nothing held yet', () => {
    expect(reissueVerdict({ current: undefined, wanted, issuer: ca, now: NOW })).to.deep.equal({ reason: 'DoesNotExist', message: 'no certificate yet' });
  });

  it('Invalid: the held certificate cannot be parsed, named with the parser error', () => {
    const verdict = reissueVerdict({ current: { ...held, crt: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }, wanted, issuer: ca, now: NOW });
    expect(verdict?.reason).to.equal('Invalid');
    expect(verdict?.message).to.match(/^the stored certificate cannot be parsed: /);
  });

  it('SecretMismatch: the held key is another key, or is not a key', async () => {
    const other = await generateKeyPair('ecdsa');
    expect(reissueVerdict({ current: { ...held, key: encodePrivateKeyPem(other) }, wanted, issuer: ca, now: at(1) })).to.deep.equal({
      reason: 'SecretMismatch',
      message: 'the private key does not match the certificate',
    });
    const unreadable = reissueVerdict({ current: { ...held, key: 'not a key' }, wanted, issuer: ca, now: at(1) });
    expect(unreadable?.reason).to.equal('SecretMismatch');
    expect(unreadable?.message).to.match(/^the private key cannot be read: /);
  });

  it('SecretMismatch is not read back for a pair just issued, only for that exact text: any other key is still read and compared', async () => {
    const { certificates } = await issueSet('api', {}, [{ name: 'server', issuer: 'os', ca, request: wanted }], NOW);
    const issued = certificates.server;
    expect(reissueVerdict({ current: issued, wanted, issuer: ca, now: at(1) })).to.equal(undefined);
    const other = await generateKeyPair('ecdsa');
    expect(reissueVerdict({ current: { ...issued, key: encodePrivateKeyPem(other) }, wanted, issuer: ca, now: at(1) })?.reason).to.equal('SecretMismatch');
    // What remembering means: a pair declared issued here is taken as matching without reading the key.
    rememberIssuedPair(issued.crt, 'not a key');
    expect(reissueVerdict({ current: { ...issued, key: 'not a key' }, wanted, issuer: ca, now: at(1) })).to.equal(undefined);
  });

  it('IncorrectIssuer: the issuing CA is now another one', () => {
    expect(reissueVerdict({ current: held, wanted, issuer: otherCA, now: at(1) })).to.deep.equal({
      reason: 'IncorrectIssuer',
      message: 'issued by another CA than the current issuing CA',
    });
  });

  it('RequestChanged: names every difference (SANs added and removed, lifetime), whatever the order of names', () => {
    const reordered = { ...wanted, dnsNames: [...wanted.dnsNames].reverse() };
    expect(reissueVerdict({ current: held, wanted: reordered, issuer: ca, now: at(1) })).to.equal(undefined);
    const changed = { ...wanted, dnsNames: ['cp-1', 'cp-1.example.com'], validityHours: 48 };
    expect(reissueVerdict({ current: held, wanted: changed, issuer: ca, now: at(1) })).to.deep.equal({
      reason: 'RequestChanged',
      message: 'SAN +cp-1.example.com, SAN -localhost, lifetime 24h -> 48h',
    });
  });

  it('Renewing: from the renewal time on, and not a millisecond before', () => {
    const renewAt = new Date(held.renewAt);
    expect(reissueVerdict({ current: held, wanted, issuer: ca, now: new Date(renewAt.getTime() - 1) })).to.equal(undefined);
    expect(reissueVerdict({ current: held, wanted, issuer: ca, now: renewAt })).to.deep.equal({ reason: 'Renewing', message: `renewal time ${held.renewAt} reached` });
  });

  it('Expired: at notAfter, before Renewing (both fire then; expiry is the one to tell)', () => {
    const verdict = reissueVerdict({ current: held, wanted, issuer: ca, now: at(25) });
    expect(verdict?.reason).to.equal('Expired');
    expect(verdict?.message).to.match(/^expired at 2026-06-02T00:0\d:00\.000Z$/);
  });

  it('orders the checks: a changed request on a certificate from another CA is IncorrectIssuer', () => {
    const changed = { ...wanted, commonName: 'cp-2' };
    expect(reissueVerdict({ current: held, wanted: changed, issuer: otherCA, now: at(1) })?.reason).to.equal('IncorrectIssuer');
    expect(reissueVerdict({ current: held, wanted: changed, issuer: ca, now: at(30) })?.reason).to.equal('RequestChanged');
  });
});
