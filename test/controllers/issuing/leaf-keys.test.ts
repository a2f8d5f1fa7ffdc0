import { expect } from 'chai';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { certificateRequest } from '../../../src/controllers/issuing/certificate-request.js';
import { issueSet } from '../../../src/controllers/issuing/issue-set.js';
import { freshLeafKeys, reusedLeafKeys } from '../../../src/controllers/issuing/leaf-keys.js';
import { createCA, parsePrivateKeyPem } from '../../../src/pki/index.js';
import type { IssuedSet } from '../../../src/resources/common.js';
import { sharedKey } from '../../pki/shared-keys.js';

const spki = (pem: string) => createPublicKey(parsePrivateKeyPem(pem).privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
const keysOf = (set: IssuedSet) => Object.values(set).map((c) => spki(c.key));

describe('leaf keys: fresh on a node, reused only in a look-ahead', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const wanted = async () => {
    const ca = await createCA('os', { key: sharedKey('ecdsa'), now });
    return ['a', 'b', 'c'].map((name) => ({ name, issuer: 'os' as const, ca, request: certificateRequest('node-server', `node-${name}`, [], 720) }));
  };

  it('gives every certificate of a set its own key by default, and again on the next issue', async () => {
    const first = await issueSet('api', {}, await wanted(), now);
    const second = await issueSet('api', {}, await wanted(), now, freshLeafKeys);
    const all = [...keysOf(first.certificates), ...keysOf(second.certificates)];
    expect(new Set(all).size).to.equal(6);
  });

  it('reuses one key per algorithm and size when asked (check), and still pairs each certificate with its key', async () => {
    const result = await issueSet('api', {}, await wanted(), now, reusedLeafKeys());
    expect(new Set(keysOf(result.certificates)).size).to.equal(1);
    for (const c of Object.values(result.certificates)) {
      expect(new X509Certificate(c.crt).publicKey.export({ type: 'spki', format: 'der' }).toString('base64')).to.equal(spki(c.key));
    }
  });

  it('keeps keys of different algorithms or sizes apart', async () => {
    const keys = reusedLeafKeys();
    const [ecdsa, ecdsaAgain, ed25519] = await Promise.all([keys('ecdsa'), keys('ecdsa'), keys('ed25519')]);
    expect(ecdsaAgain).to.equal(ecdsa);
    expect(ed25519.algorithm).to.equal('ed25519');
    expect(ecdsa.algorithm).to.equal('ecdsa');
    const rsa = await keys('rsa', 2048);
    expect(rsa.rsaBits).to.equal(2048);
    expect(await keys('rsa', 2048)).to.equal(rsa);
    // A second source (another simulation) shares nothing with the first.
    expect(await reusedLeafKeys()('ecdsa')).to.not.equal(ecdsa);
  });
});
