import { expect } from 'chai';
import { buildCrl, createCA, crlPem, issueCertificateAndKey } from '../../src/pki/index.js';
import type { CertificateAuthority } from '../../src/pki/index.js';
import { cleanupTempFiles, openssl, tempFile } from './openssl.js';
import { sharedKey } from './shared-keys.js';

const NOW = new Date();
const serialOf = (pem: string) => openssl(['x509', '-noout', '-serial', '-in', tempFile(pem)]).out.trim().replace(/^serial=/, '');

describe('pki/crl: v2 CRLs judged by openssl', () => {
  after(cleanupTempFiles);

  for (const algorithm of ['ecdsa', 'ed25519', 'rsa'] as const) {
    it(`signs a CRL that openssl crl -CAfile verifies and verify -crl_check applies (${algorithm} CA)`, async () => {
      const ca = await createCA('os', { algorithm, key: sharedKey(algorithm), now: new Date(NOW.getTime() - 60_000) });
      const revoked = await leaf(ca);
      const kept = await leaf(ca);
      const crl = crlPem(buildCrl(ca, [{ serial: serialOf(revoked), revokedAt: NOW, reasonCode: 'keyCompromise' }], { number: 7, thisUpdate: NOW, nextUpdate: new Date(NOW.getTime() + 86_400_000) }));
      const caFile = tempFile(ca.certPem);
      const crlFile = tempFile(crl);
      const check = openssl(['crl', '-in', crlFile, '-CAfile', caFile, '-noout']);
      expect(check.out).to.match(/verify OK/);
      const refused = openssl(['verify', '-crl_check', '-CRLfile', crlFile, '-CAfile', caFile, tempFile(revoked)]);
      expect(refused.ok).to.equal(false);
      expect(refused.out).to.match(/certificate revoked/);
      const accepted = openssl(['verify', '-crl_check', '-CRLfile', crlFile, '-CAfile', caFile, tempFile(kept)]);
      expect(accepted.out).to.match(/: OK/);
      expect(accepted.ok).to.equal(true);
    });
  }

  it('writes version 2, the CRL number, the authority key identifier, nextUpdate and each entry\'s reason code', async () => {
    const ca = await createCA('kubernetes', { key: sharedKey('ecdsa'), now: NOW });
    const a = await leaf(ca);
    const b = await leaf(ca);
    const next = new Date(NOW.getTime() + 3_600_000);
    const crl = crlPem(
      buildCrl(
        ca,
        [
          { serial: serialOf(a), revokedAt: NOW, reasonCode: 'keyCompromise' },
          { serial: serialOf(b), revokedAt: NOW, reasonCode: 'unspecified' },
        ],
        { number: 42, thisUpdate: NOW, nextUpdate: next },
      ),
    );
    const text = openssl(['crl', '-in', tempFile(crl), '-noout', '-text']).out;
    expect(text).to.match(/Version 2 \(0x1\)/);
    expect(text).to.match(/X509v3 CRL Number:\s*\n\s*42/);
    expect(text).to.match(/X509v3 Authority Key Identifier:/);
    expect(text).to.match(/Next Update: /);
    expect(text).to.match(new RegExp(`Serial Number: ${serialOf(a)}[\\s\\S]*?CRL Reason Code:\\s*\\n\\s*Key Compromise`));
    // RFC 5280 §5.3.1: no reasonCode extension rather than "unspecified".
    const bEntry = text.slice(text.indexOf(`Serial Number: ${serialOf(b)}`)).split('Serial Number:')[1];
    expect(bEntry).to.not.match(/Reason Code/);
  });

  it('leaves out revokedCertificates when nothing is revoked (an empty list is not valid DER for it)', async () => {
    const ca = await createCA('etcd', { key: sharedKey('ecdsa'), now: NOW });
    const crl = crlPem(buildCrl(ca, [], { number: 1, thisUpdate: NOW, nextUpdate: new Date(NOW.getTime() + 60_000) }));
    const text = openssl(['crl', '-in', tempFile(crl), '-noout', '-text', '-CAfile', tempFile(ca.certPem)]).out;
    expect(text).to.match(/No Revoked Certificates/);
    expect(text).to.match(/verify OK/);
  });

  it('refuses a nextUpdate not after thisUpdate and a serial that is not hex', async () => {
    const ca = await createCA('os', { key: sharedKey('ecdsa'), now: NOW });
    expect(() => buildCrl(ca, [], { number: 1, thisUpdate: NOW, nextUpdate: NOW })).to.throw(/nextUpdate: must be after thisUpdate/);
    expect(() => buildCrl(ca, [{ serial: 'zz', revokedAt: NOW, reasonCode: 'superseded' }], { number: 1, thisUpdate: NOW, nextUpdate: new Date(NOW.getTime() + 1000) })).to.throw(/expected 1 to 40 hex digits/);
  });
});

async function leaf(ca: CertificateAuthority): Promise<string> {
  return (await issueCertificateAndKey(ca, 'talos-client', { now: NOW, algorithm: 'ecdsa', commonName: 'c', organizations: ['os:admin'] })).certPem;
}
