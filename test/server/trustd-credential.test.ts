import { expect } from 'chai';
import { caFromPem, createCA, encodePrivateKeyPem, generateKeyPairSync, issueCertificate } from '../../src/pki/index.js';
import type { CertificateAuthority, LeafProfile } from '../../src/pki/index.js';
import { trustdCredential } from '../../src/server/trustd-client/trustd-credential.js';
import { fixtureBundle } from '../controllers/node-harness.js';

const bundle = fixtureBundle();
const OS_CA = bundle.certs.os.crt;
const NOW = new Date();
const TOKEN = 'k3x9q2.4f7w0z1m8n2b5c6v';

function held(o: { ca?: CertificateAuthority; at?: Date; profile?: LeafProfile } = {}): { crt: string; key: string } {
  const key = generateKeyPairSync('ecdsa');
  const issued = issueCertificate(o.ca ?? caFromPem(OS_CA, bundle.certs.os.key), o.profile ?? 'node-server', {
    publicKey: key.publicKey,
    now: o.at ?? NOW,
    validityHours: 24,
    commonName: 'talos-node',
    dnsNames: ['worker-1'],
    ipAddresses: ['10.5.0.3', 'fd00::3'],
  });
  return { crt: issued.certPem, key: encodePrivateKeyPem(key) };
}

const choose = (h: { crt: string; key: string } | undefined, names: string[] = ['worker-1', '10.5.0.3'], purpose: 'clientAuth' | 'serverAuth' = 'serverAuth') =>
  trustdCredential({ held: h, acceptedCAs: [OS_CA], purpose, now: NOW, token: TOKEN, names });

describe('trustdCredential: the worker renews with its current certificate, else with the token of its config', () => {
  it('presents a current certificate from an accepted CA that carries every name asked for (key as PKCS#8), and sends no token', () => {
    const h = held();
    const credential = choose(h, ['WORKER-1', '10.5.0.3', 'fd00:0:0::3']);
    expect(credential).to.have.keys('clientCertificate');
    if (!('clientCertificate' in credential)) throw new Error('no certificate');
    expect(credential.clientCertificate.crt).to.equal(h.crt);
    expect(credential.clientCertificate.key).to.match(/^-----BEGIN PRIVATE KEY-----/);
    expect(choose(h, ['10.5.0.3'])).to.have.keys('clientCertificate');
  });

  it('uses the token on the first join, for a certificate that has run out, from a CA no longer accepted, lacking a name, or of the wrong usage', async () => {
    expect(choose(undefined)).to.deep.equal({ token: TOKEN });
    expect(choose(held({ at: new Date(NOW.getTime() - 48 * 3_600_000) }))).to.deep.equal({ token: TOKEN });
    expect(choose(held({ ca: await createCA('os', { now: NOW }) }))).to.deep.equal({ token: TOKEN });
    expect(choose(held(), ['worker-1', '10.5.0.9'])).to.deep.equal({ token: TOKEN });
    expect(choose(held(), ['worker-1', '10.5.0.3'], 'clientAuth')).to.deep.equal({ token: TOKEN });
  });
});
