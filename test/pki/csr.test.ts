import { expect } from 'chai';
import fc from 'fast-check';
import { CsrError, createCsr, encodePrivateKeyPkcs8Pem, parseCsr } from '../../src/pki/index.js';
import { cleanupTempFiles, openssl, tempFile } from './openssl.js';
import { sharedKey } from './shared-keys.js';

function expectCsrError(pem: string, reason: CsrError['reason'], message: string | RegExp): void {
  try {
    parseCsr(pem);
  } catch (err) {
    expect(err).to.be.instanceOf(CsrError);
    expect((err as CsrError).reason).to.equal(reason);
    if (typeof message === 'string') expect((err as Error).message).to.equal(message);
    else expect((err as Error).message).to.match(message);
    return;
  }
  expect.fail(`expected CsrError ${reason}`);
}

/** Flips one bit inside the DER of a PEM block, at a byte offset from the end. */
function tamper(pem: string, fromEnd: number): string {
  const label = /-----BEGIN ([A-Z ]+)-----/.exec(pem)![1];
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  der[der.length - fromEnd] ^= 0x01;
  return `-----BEGIN ${label}-----\n${der.toString('base64')}\n-----END ${label}-----\n`;
}

describe('pki/csr', () => {
  after(cleanupTempFiles);

  for (const algorithm of ['ecdsa', 'ed25519', 'rsa'] as const) {
    it(`builds a ${algorithm} CSR that parses back and that \`openssl req -verify\` accepts`, () => {
      const key = sharedKey(algorithm);
      const pem = createCsr(key, { commonName: 'node1', organizations: ['os:admin'] }, { dnsNames: ['node1.example'], ipAddresses: ['10.5.0.2', 'fd00::2'] });
      expect(pem).to.match(/^-----BEGIN CERTIFICATE REQUEST-----\n/);
      const csr = parseCsr(pem);
      expect(csr).to.deep.include({ commonName: 'node1', organizations: ['os:admin'], subject: 'CN=node1,O=os:admin', dnsNames: ['node1.example'], ipAddresses: ['10.5.0.2', 'fd00::2'], keyAlgorithm: algorithm });
      expect(csr.publicKey.equals(key.publicKey)).to.equal(true);
      const r = openssl(['req', '-verify', '-noout', '-text', '-in', tempFile(pem)]);
      expect(r.ok, r.out).to.equal(true);
      expect(r.out).to.include('Certificate request self-signature verify OK');
      expect(r.out).to.include('Subject: O = os:admin, CN = node1');
      expect(r.out).to.include('DNS:node1.example, IP Address:10.5.0.2, IP Address:FD00:0:0:0:0:0:0:2');
    });

    it(`refuses a tampered ${algorithm} CSR with "failed verifying CSR signature"`, () => {
      const pem = createCsr(sharedKey(algorithm), { commonName: 'node1' }, { ipAddresses: ['10.5.0.2'] });
      // the last IP octet sits just before the signature algorithm and signature; change 10.5.0.2 to 10.5.0.3
      const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
      const at = der.indexOf(Buffer.from([0x87, 0x04, 10, 5, 0, 2]));
      expect(at).to.be.greaterThan(0);
      der[at + 5] = 3;
      const forged = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
      expectCsrError(forged, 'signature', 'failed verifying CSR signature');
      // OpenSSL 3.0 exits 0 either way; its verdict is in the text
      expect(openssl(['req', '-verify', '-noout', '-in', tempFile(forged)]).out).to.match(/self-signature verify failure/);
    });
  }

  it('round-trips any subject and SAN list through a CSR', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
    const dns = fc.array(label, { minLength: 1, maxLength: 3 }).map((ls) => ls.join('.'));
    const ip = fc.oneof(fc.ipV4(), fc.ipV6());
    const canonical = (a: string) => (a.includes(':') ? new URL(`http://[${a}]/`).hostname.slice(1, -1) : a);
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.array(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 3 }), fc.array(dns, { maxLength: 4 }), fc.array(ip, { maxLength: 4 }), (cn, orgs, dnsNames, ipAddresses) => {
        const csr = parseCsr(createCsr(sharedKey('ed25519'), { commonName: cn, organizations: orgs }, { dnsNames, ipAddresses }));
        expect(csr.commonName).to.equal(cn);
        expect(csr.organizations).to.deep.equal(orgs);
        expect(csr.dnsNames).to.deep.equal(dnsNames);
        expect(csr.ipAddresses).to.deep.equal(ipAddresses.map(canonical));
      }),
      { numRuns: 200 },
    );
  });

  it('builds a CSR without SANs or subject fields', () => {
    const csr = parseCsr(createCsr(sharedKey('ecdsa'), {}, {}));
    expect(csr).to.deep.include({ commonName: '', organizations: [], dnsNames: [], ipAddresses: [] });
    expect(openssl(['req', '-verify', '-noout', '-in', tempFile(createCsr(sharedKey('ecdsa'), { commonName: 'x' }))]).out).to.include('self-signature verify OK');
  });

  for (const [name, genArgs] of [
    ['P-256', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']],
    ['Ed25519', ['-algorithm', 'ED25519']],
    ['RSA', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']],
  ] as const) {
    it(`parses a ${name} CSR made by openssl, with requested extensions`, () => {
      const keyPath = tempFile(name === 'RSA' ? encodePrivateKeyPkcs8Pem(sharedKey('rsa')) : openssl(['genpkey', ...genArgs]).out);
      const r = openssl([
        'req', '-new', '-key', keyPath, '-subj', '/O=os:reader/O=os:operator/CN=worker-1',
        '-addext', 'subjectAltName=DNS:worker-1,IP:10.0.0.7,IP:::1',
        '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,digitalSignature,keyCertSign',
        '-addext', 'extendedKeyUsage=serverAuth,clientAuth',
      ]);
      expect(r.ok, r.out).to.equal(true);
      const csr = parseCsr(r.out);
      expect(csr).to.deep.include({
        commonName: 'worker-1',
        organizations: ['os:reader', 'os:operator'],
        dnsNames: ['worker-1'],
        ipAddresses: ['10.0.0.7', '::1'],
        keyAlgorithm: name === 'P-256' ? 'ecdsa' : name === 'Ed25519' ? 'ed25519' : 'rsa',
      });
      expect(csr.requestedExtensions).to.deep.equal({ isCA: true, keyUsage: ['digitalSignature', 'keyCertSign'], extKeyUsage: ['serverAuth', 'clientAuth'] });
    });
  }

  it('answers with trustd\'s messages for input that is not a CSR', () => {
    expectCsrError('', 'decode', 'failed to decode CSR');
    expectCsrError('hello', 'decode', 'failed to decode CSR');
    expectCsrError('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'decode', 'failed to decode CSR');
    expectCsrError('-----BEGIN CERTIFICATE REQUEST-----\nMAMCAQA=\n-----END CERTIFICATE REQUEST-----\n', 'parse', /^failed to parse CSR: /);
    // the first byte is the outer SEQUENCE tag; flipping it leaves something that is not a CSR
    const good = createCsr(sharedKey('ecdsa'), { commonName: 'x' });
    expectCsrError(tamper(good, Buffer.from(good.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64').length), 'parse', /^failed to parse CSR: CertificationRequest: expected tag 0x30, got 0x31/);
  });

  it('refuses a CSR whose signature algorithm it does not accept, as a parse failure', () => {
    // sign with SHA-1 via openssl: Go (and so trustd) rejects SHA-1 signatures
    const keyPath = tempFile(encodePrivateKeyPkcs8Pem(sharedKey('rsa')));
    const r = openssl(['req', '-new', '-sha1', '-key', keyPath, '-subj', '/CN=old']);
    expect(r.ok, r.out).to.equal(true);
    expectCsrError(r.out, 'parse', 'failed to parse CSR: unsupported signature algorithm 1.2.840.113549.1.1.5');
  });
});
