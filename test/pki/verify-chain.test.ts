import { expect } from 'chai';
import { createCA, isIssuedBy, issueCertificate, parseCertificatePem, verifyChain } from '../../src/pki/index.js';
import type { CertificateAuthority } from '../../src/pki/index.js';
import { fixtureBundle } from './fixtures.js';
import { cleanupTempFiles, verifyStrict } from './openssl.js';
import { sharedKey } from './shared-keys.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;

describe('pki/verifyChain', () => {
  let os: CertificateAuthority;
  let lookalike: CertificateAuthority;
  let other: CertificateAuthority;
  before(async () => {
    os = await createCA('os', { key: sharedKey('ed25519'), now: NOW });
    lookalike = await createCA('os', { key: sharedKey('ecdsa'), now: NOW });
    other = await createCA('kubernetes', { key: sharedKey('ecdsa'), now: NOW });
  });
  after(cleanupTempFiles);

  const client = () => issueCertificate(os, 'talos-client', { publicKey: sharedKey('ecdsa').publicKey, now: NOW });

  it('accepts a leaf that chains to one of the CAs and says which, agreeing with openssl', () => {
    const leaf = client();
    const at = new Date(NOW.getTime() + HOUR);
    const result = verifyChain(leaf.cert, [other.cert, os.cert], { at, purpose: 'clientAuth' });
    expect(result.ok).to.equal(true);
    if (result.ok) expect(result.ca.fingerprint256).to.equal(os.cert.fingerprint256);
    expect(verifyStrict(os.certPem, leaf.certPem, 'sslclient', at).ok).to.equal(true);
  });

  it('reports an unknown authority when no CA signed it, even one with the same name', () => {
    const result = verifyChain(client().cert, [lookalike.cert, other.cert], { at: NOW });
    expect(result).to.deep.equal({ ok: false, reason: 'UnknownAuthority', message: 'x509: certificate signed by unknown authority' });
    expect(isIssuedBy(client().cert, os.cert)).to.equal(true);
    expect(isIssuedBy(client().cert, lookalike.cert)).to.equal(false);
  });

  it('reports expiry and not-yet-valid with Go\'s wording and the times', () => {
    const leaf = client().cert;
    expect(verifyChain(leaf, [os.cert], { at: new Date(NOW.getTime() + 8761 * HOUR) })).to.deep.equal({
      ok: false,
      reason: 'Expired',
      message: 'x509: certificate has expired or is not yet valid: current time 2027-03-01T13:00:00Z is after 2027-03-01T12:00:00Z',
    });
    expect(verifyChain(leaf, [os.cert], { at: new Date(NOW.getTime() - HOUR) })).to.deep.equal({
      ok: false,
      reason: 'NotYetValid',
      message: 'x509: certificate has expired or is not yet valid: current time 2026-03-01T11:00:00Z is before 2026-03-01T11:55:00Z',
    });
  });

  it('checks the CA\'s validity too: a backdated leaf is refused while its young CA is not yet valid', async () => {
    const young = await createCA('os', { key: sharedKey('ecdsa'), now: NOW });
    const leaf = issueCertificate(young, 'talos-client', { publicKey: sharedKey('ecdsa').publicKey, now: NOW });
    const at = new Date(NOW.getTime() - 60_000);
    expect(at > new Date(NOW.getTime() - 5 * 60_000)).to.equal(true); // the leaf alone is valid then
    expect(verifyChain(leaf.cert, [young.cert], { at })).to.deep.include({ ok: false, reason: 'NotYetValid' });
    expect(verifyChain(leaf.cert, [young.cert], { at: NOW }).ok).to.equal(true);
  });

  it('reports the wrong usage for a client certificate presented as a server and vice versa', () => {
    const server = issueCertificate(os, 'node-server', { publicKey: sharedKey('ecdsa').publicKey, now: NOW, ipAddresses: ['10.0.0.1'] });
    const asClient = verifyChain(server.cert, [os.cert], { at: NOW, purpose: 'clientAuth' });
    expect(asClient).to.deep.include({ ok: false, reason: 'WrongUsage' });
    expect(!asClient.ok && asClient.message).to.match(/^x509: certificate specifies an incompatible key usage/);
    expect(verifyChain(client().cert, [os.cert], { at: NOW, purpose: 'serverAuth' })).to.deep.include({ ok: false, reason: 'WrongUsage' });
    expect(verifyChain(server.cert, [os.cert], { at: NOW, purpose: 'serverAuth' }).ok).to.equal(true);
  });

  it('verifies leaves against the real Talos Ed25519 OS CA', () => {
    const bundle = fixtureBundle();
    const ca = parseCertificatePem(bundle.os.crt);
    expect(verifyChain(client().cert, [ca], { at: NOW }).ok).to.equal(false);
  });
});
