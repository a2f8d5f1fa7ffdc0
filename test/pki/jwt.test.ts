import { expect } from 'chai';
import { PkiError, encodePublicKeyPem, parsePrivateKeyPem, signJwt, verifyJwt } from '../../src/pki/index.js';
import { fixtureBundle, kubernetesPki } from './fixtures.js';
import { cleanupTempFiles, openssl, tempFile } from './openssl.js';
import { sharedKey } from './shared-keys.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const sec = (d: Date) => Math.floor(d.getTime() / 1000);
const claims = { iss: 'https://kubernetes.default.svc.cluster.local', sub: 'system:serviceaccount:kube-system:default', aud: ['https://kubernetes.default.svc'], iat: sec(NOW), nbf: sec(NOW), exp: sec(NOW) + 3600 };

describe('pki/jwt', () => {
  after(cleanupTempFiles);

  for (const [name, key, alg] of [
    ['RSA (kubeadm sa.key)', () => parsePrivateKeyPem(kubernetesPki('sa.key')), 'RS256'],
    ['ECDSA P-256 (Talos bundle k8sserviceaccount)', () => parsePrivateKeyPem(fixtureBundle().k8sserviceaccount.key), 'ES256'],
    ['Ed25519', () => sharedKey('ed25519'), 'EdDSA'],
  ] as const) {
    it(`signs and verifies service-account tokens with an ${name} key as ${alg}`, () => {
      const k = key();
      const token = signJwt(k, claims, { kid: 'abc' });
      const { header, claims: back } = verifyJwt(token, k.publicKey, { at: new Date(NOW.getTime() + 60_000), audience: 'https://kubernetes.default.svc', issuer: claims.iss });
      expect(header).to.deep.equal({ alg, typ: 'JWT', kid: 'abc' });
      expect(back).to.deep.equal(claims);
    });
  }

  it('produces RS256 signatures that openssl verifies over the signing input', () => {
    const k = parsePrivateKeyPem(kubernetesPki('sa.key'));
    const [h, p, s] = signJwt(k, claims).split('.');
    const r = openssl(['dgst', '-sha256', '-verify', tempFile(encodePublicKeyPem(k.publicKey)), '-signature', tempFile(Buffer.from(s, 'base64url'), '.sig'), tempFile(`${h}.${p}`, '.txt')]);
    expect(r.out.trim()).to.equal('Verified OK');
  });

  it('refuses tampered, expired, early, misdirected and foreign-key tokens', () => {
    const k = sharedKey('ecdsa');
    const token = signJwt(k, claims);
    const [h, p, s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'system:admin' })).toString('base64url')}.${s}`;
    const at = new Date(NOW.getTime() + 60_000);
    expect(() => verifyJwt(forged, k.publicKey, { at })).to.throw(PkiError, 'JWT: invalid signature');
    expect(() => verifyJwt(token, k.publicKey, { at: new Date(NOW.getTime() + 3600_000) })).to.throw(PkiError, 'JWT: expired at 2026-03-01T13:00:00.000Z');
    expect(() => verifyJwt(token, k.publicKey, { at: new Date(NOW.getTime() - 1000) })).to.throw(PkiError, 'JWT: not valid before 2026-03-01T12:00:00.000Z');
    expect(() => verifyJwt(token, k.publicKey, { at, audience: 'other' })).to.throw(PkiError, 'JWT: audience does not include "other"');
    expect(() => verifyJwt(token, sharedKey('rsa').publicKey, { at })).to.throw(PkiError, 'JWT: algorithm "ES256" does not match the key (expected RS256)');
    expect(() => verifyJwt(`${h}.${p}`, k.publicKey)).to.throw(PkiError, 'JWT: expected three dot-separated parts');
    expect(() => verifyJwt(`x.${p}.${s}`, k.publicKey)).to.throw(PkiError, 'JWT: the header is not a base64url JSON object');
  });
});
