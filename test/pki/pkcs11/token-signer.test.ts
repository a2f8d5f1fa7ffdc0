import { expect } from 'chai';
import { createCA, createCAWithSigner, crossSignCAAsync, issueCertificate, issueCertificateAsync, PkiError, signJwtWith, verifyJwt } from '../../../src/pki/index.js';
import type { KeyAlgorithm } from '../../../src/pki/index.js';
import { generateTokenKey, Pkcs11Token, TokenError, tokenSigner } from '../../../src/pki/pkcs11/index.js';
import { rejection, thrown } from '../../support/caught.js';
import { createSoftToken, listTokenObjects, pkcs11ToolMissing, privateKeyAccess, softhsmMissing } from '../../support/softhsm.js';
import type { SoftToken } from '../../support/softhsm.js';
import { cleanupTempFiles, openssl, tempFile, verifyStrict } from '../openssl.js';
import { sharedKey } from '../shared-keys.js';

const NOW = new Date('2026-03-01T12:00:00Z');


describe('pki/pkcs11 token signer (SoftHSM2)', function () {
  let soft: SoftToken;
  let token: Pkcs11Token | undefined;

  before(function () {
    const missing = softhsmMissing() ?? pkcs11ToolMissing();
    if (missing) this.skip();
  });
  beforeEach(() => {
    soft = createSoftToken('pki-test');
  });
  afterEach(() => {
    token?.close();
    token = undefined;
    soft?.remove();
  });
  after(cleanupTempFiles);

  const open = () => (token = Pkcs11Token.open({ module: soft.module, token: soft.label, pin: soft.pin }));

  for (const algorithm of ['ecdsa', 'ed25519', 'rsa'] as const satisfies readonly KeyAlgorithm[]) {
    it(`makes a ${algorithm} CA whose key never leaves the token; openssl verifies the CA and a leaf signed through it`, async () => {
      const t = open();
      const key = await generateTokenKey(t, { algorithm, label: `os CA ${algorithm}`, rsaBits: 2048 });
      const ca = await createCAWithSigner('os', tokenSigner(t, key.uri, key.publicKey), { now: NOW });
      expect(ca.signer.location).to.equal('hsm');
      expect(openssl(['verify', '-x509_strict', '-CAfile', tempFile(ca.certPem), tempFile(ca.certPem)]).ok).to.equal(true);
      const leaf = await issueCertificateAsync(ca, 'node-server', { publicKey: sharedKey('ecdsa').publicKey, now: NOW, ipAddresses: ['10.0.0.1'] });
      const verdict = verifyStrict(ca.certPem, leaf.certPem, 'sslserver', NOW);
      expect(verdict.ok, verdict.out).to.equal(true);

      const access = privateKeyAccess(listTokenObjects(soft), `os CA ${algorithm}`);
      expect(access).to.include.members(['sensitive', 'always sensitive', 'never extractable', 'local']);
      expect(access).to.not.include('extractable');
    });
  }

  it('signs 24 certificates at once through the session pool, every one valid', async () => {
    const t = open();
    const key = await generateTokenKey(t, { algorithm: 'ecdsa', label: 'concurrent' });
    const ca = await createCAWithSigner('os', tokenSigner(t, key.uri, key.publicKey), { now: NOW });
    const leaves = await Promise.all(
      Array.from({ length: 24 }, (_, i) => issueCertificateAsync(ca, 'node-server', { publicKey: sharedKey('ecdsa').publicKey, now: NOW, ipAddresses: [`10.0.0.${i + 1}`] })),
    );
    for (const leaf of leaves) expect(leaf.cert.verify(ca.cert.publicKey)).to.equal(true);
    expect(new Set(leaves.map((l) => l.cert.serialNumber)).size).to.equal(24);
  });

  it('cross-signs a new CA with a token CA (a rotation with the token): openssl verifies the new CA against the old', async () => {
    const t = open();
    const key = await generateTokenKey(t, { algorithm: 'ecdsa', label: 'old' });
    const old = await createCAWithSigner('os', tokenSigner(t, key.uri, key.publicKey), { now: NOW });
    const next = await createCA('os', { now: NOW });
    const cross = await crossSignCAAsync(next.cert, old);
    const verdict = openssl(['verify', '-x509_strict', '-partial_chain', '-attime', String(NOW.getTime() / 1000 + 60), '-CAfile', tempFile(old.certPem), tempFile(cross.certPem)]);
    expect(verdict.ok, verdict.out).to.equal(true);
    expect(cross.cert.publicKey.equals(next.cert.publicKey)).to.equal(true);
  });

  it('signs a service-account JWT (ES256) in the token that verifyJwt accepts', async () => {
    const t = open();
    const key = await generateTokenKey(t, { algorithm: 'ecdsa', label: 'sa' });
    const jwt = await signJwtWith(tokenSigner(t, key.uri, key.publicKey), { sub: 'system:serviceaccount:a:b', exp: 2_000_000_000 });
    expect(verifyJwt(jwt, key.publicKey, { at: NOW }).claims.sub).to.equal('system:serviceaccount:a:b');
  });

  it('refuses the synchronous issuing path for a token CA, naming the key and the path to use', async () => {
    const t = open();
    const key = await generateTokenKey(t, { algorithm: 'ecdsa', label: 'sync' });
    const ca = await createCAWithSigner('os', tokenSigner(t, key.uri, key.publicKey), { now: NOW });
    const err = thrown(() => issueCertificate(ca, 'talos-client', { publicKey: sharedKey('ecdsa').publicKey, now: NOW }));
    expect(err).to.be.instanceOf(PkiError).with.property('code', 'KeyInToken');
    expect(err.message).to.include('pkcs11:token=pki-test;object=sync;id=%').and.include('issueCertificateAsync');
  });

  it('refuses a wrong PIN, a missing token and a missing module with the module, the token and the fix', () => {
    const wrongPin = thrown(() => Pkcs11Token.open({ module: soft.module, token: soft.label, pin: '0000' }));
    expect(wrongPin).to.be.instanceOf(TokenError).with.property('reason', 'pin');
    expect(wrongPin.message).to.equal(
      `PKCS#11 token "pki-test" (module ${soft.module}): login refused (CKR_PIN_INCORRECT); put the token's user PIN in the file named by --pkcs11-pin-file (TRUSTPLANE_PKCS11_PIN_FILE)`,
    );
    const noToken = thrown(() => Pkcs11Token.open({ module: soft.module, token: 'nope', pin: '1234' }));
    expect(noToken.message).to.equal(
      `PKCS#11 token "nope" (module ${soft.module}): no token with this label (present: "pki-test"); initialise the token (softhsm2-util --init-token --free --label LABEL) or fix --pkcs11-token (TRUSTPLANE_PKCS11_TOKEN)`,
    );
    const noModule = thrown(() => Pkcs11Token.open({ module: '/nonexistent/libpkcs11.so', token: 'pki-test', pin: '1234' }));
    expect(noModule).to.be.instanceOf(TokenError).with.property('reason', 'module');
    expect(noModule.message).to.match(/^PKCS#11 token "\?" \(module \/nonexistent\/libpkcs11.so\): the library cannot be loaded \(.*No such file.*\); install the library or point --pkcs11-module/);
    // the failures left nothing loaded: the right PIN still opens the token
    open();
  });

  it('says at signing time that the key is gone, naming the URI, and rejects the signature', async () => {
    const t = open();
    const key = await generateTokenKey(t, { algorithm: 'ecdsa', label: 'gone' });
    const signer = tokenSigner(t, key.uri, key.publicKey);
    t.close();
    const err = await rejection(signer.sign(Buffer.from('tbs')));
    expect(err).to.be.instanceOf(TokenError);
    expect(err.message).to.include('PKCS#11 token "pki-test"').and.include('the token was closed');
  });
});
