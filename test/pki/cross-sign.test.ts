import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { PkiError, createCA, crossSignCA, encodePrivateKeyPkcs8Pem, issueCertificateAndKey } from '../../src/pki/index.js';
import type { CertificateAuthority } from '../../src/pki/index.js';
import { openssl, tempFile, x509Text } from './openssl.js';

/** Whether a client trusting only `trusted` completes a handshake with a server sending `chain`. */
async function clientAccepts(chain: string, key: string, trusted: string): Promise<string | undefined> {
  const server = tls.createServer({ cert: chain, key }, (s) => s.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await new Promise<string | undefined>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, ca: trusted }, () => {
        socket.end();
        resolve(undefined);
      });
      socket.on('error', (err) => resolve(err.message));
    });
  } finally {
    server.close();
  }
}

describe('crossSignCA (the new CA vouched for by the old one, for the overlap of a rotation)', () => {
  let oldCA: CertificateAuthority;
  let newCA: CertificateAuthority;
  let leaf: { certPem: string; keyPem: string };
  let cross: string;
  before(async () => {
    oldCA = await createCA('os', { algorithm: 'ed25519' });
    newCA = await createCA('os', { algorithm: 'ed25519' });
    const issued = await issueCertificateAndKey(newCA, 'node-server', { ipAddresses: ['127.0.0.1'] });
    leaf = { certPem: issued.certPem, keyPem: encodePrivateKeyPkcs8Pem(issued.key) };
    cross = crossSignCA(newCA.cert, oldCA).certPem;
  });

  it("keeps the new CA's subject, key and key identifier, names the old CA as issuer, and is a CA (openssl x509)", () => {
    const text = x509Text(cross);
    const newText = x509Text(newCA.certPem);
    expect(text).to.match(/Issuer: O ?= ?talos/);
    expect(text).to.match(/CA:TRUE/);
    const ski = (t: string) => /Subject Key Identifier:\s*\n\s*(\S+)/.exec(t)![1];
    expect(ski(text)).to.equal(ski(newText));
    expect(crossSignCA(newCA.cert, oldCA).cert.publicKey.equals(newCA.cert.publicKey)).to.equal(true);
    expect(new Date(crossSignCA(newCA.cert, oldCA).cert.validTo) <= new Date(oldCA.cert.validTo)).to.equal(true);
  });

  it('lets openssl verify a new-CA leaf against the old root through it, and against the new root with or without it', () => {
    const leafFile = tempFile(leaf.certPem);
    expect(openssl(['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', tempFile(oldCA.certPem), '-untrusted', tempFile(cross), leafFile]).ok).to.equal(true);
    expect(openssl(['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', tempFile(newCA.certPem), '-untrusted', tempFile(cross), leafFile]).ok).to.equal(true);
    const without = openssl(['verify', '-x509_strict', '-CAfile', tempFile(oldCA.certPem), leafFile]);
    expect(without.ok).to.equal(false);
    expect(without.out).to.match(/unable to get local issuer certificate/);
  });

  it('lets a TLS client that trusts only the old CA connect to a server sending the leaf and it; one trusting the new CA connects too', async () => {
    const chain = `${leaf.certPem}${cross}`;
    expect(await clientAccepts(chain, leaf.keyPem, oldCA.certPem)).to.equal(undefined);
    expect(await clientAccepts(chain, leaf.keyPem, newCA.certPem)).to.equal(undefined);
    expect(await clientAccepts(leaf.certPem, leaf.keyPem, oldCA.certPem)).to.match(/unable to verify the first certificate/);
  });

  it('refuses two CAs that are never valid at the same time', async () => {
    const gone = await createCA('os', { algorithm: 'ed25519', validityHours: 1, now: new Date(Date.now() - 3 * 3_600_000) });
    expect(() => crossSignCA(newCA.cert, gone)).to.throw(PkiError, /are never valid at the same time/);
  });

  it('refuses to cross-sign a leaf', () => {
    expect(() => crossSignCA(new X509Certificate(leaf.certPem), oldCA)).to.throw(/is not a CA certificate/);
  });
});
