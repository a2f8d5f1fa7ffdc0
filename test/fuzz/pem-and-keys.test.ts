// Fuzzes PEM armour, certificate and key parsing and the checks config validation runs on them: a PkiError/CsrError
// or a value, a problem string from the checks (never a throw), and no state left behind that spoils the next parse.
import { expect } from 'chai';
import fc from 'fast-check';
import { certAndKeyProblem, certificateProblem, privateKeyProblem } from '../../src/config/pem-check.js';
import {
  CsrError, PkiError, caFromPem, decodePem, decodePemBlocks, encodePem, encodePrivateKeyPem, generateKeyPairSync, inspectCertificate,
  parseCertificateBundle, parseCertificatePem, parseCsr, parsePrivateKeyPem,
} from '../../src/pki/index.js';
import { fixtureBundle, kubernetesPki } from '../pki/fixtures.js';
import { cleanOutcome, describeInput } from './clean-outcome.js';
import { mutationOf, sampleCsrs } from './der-inputs.js';
import { fuzz } from './fuzz-settings.js';
import { textMutation } from './text-inputs.js';

describe('fuzz: PEM, certificates, keys and CSRs', function () {
  this.timeout(120_000);
  const talos = fixtureBundle();
  const rsaKey = encodePrivateKeyPem(generateKeyPairSync('rsa', { rsaBits: 2048 }));
  const certs = [talos.os.crt, talos.k8s.crt, kubernetesPki('ca.crt')];
  const keys = [talos.os.key, talos.k8s.key, kubernetesPki('ca.key'), rsaKey];
  const csrs = sampleCsrs();
  /** The canary: a good key must parse after whatever the case before did. */
  const goodKeyStillParses = () => expect(parsePrivateKeyPem(talos.os.key).algorithm).to.equal('ed25519');

  it('refuses a key that does not match its certificate without spoiling the next key parse (fuzz finding: KeyObject.equals left "different key types" queued in OpenSSL)', () => {
    expect(certAndKeyProblem({ crt: talos.k8s.crt, key: rsaKey })).to.equal("the key does not match the certificate's public key");
    goodKeyStillParses();
    expect(() => caFromPem(talos.k8s.crt, rsaKey)).to.throw(PkiError, 'CA key: does not match');
    goodKeyStillParses();
  });

  it('refuses a certificate whose public key node cannot decode with a PkiError (fuzz finding: a bare "decode error" from cert.publicKey in inspect and the key checks)', () => {
    const der = Buffer.from(decodePem(talos.k8s.crt).der);
    const curve = der.indexOf(Buffer.from('06082a8648ce3d030107', 'hex')); // prime256v1
    der[curve + 9] = 0x7f; // an unknown curve
    const pem = encodePem('CERTIFICATE', der);
    expect(() => parseCertificatePem(pem, 'crt')).to.throw(PkiError, /^crt: not a valid X.509 certificate \(.*decode error\)$/);
    expect(certAndKeyProblem({ crt: pem, key: talos.k8s.key })).to.match(/^crt: not a valid X.509 certificate/);
    goodKeyStillParses();
  });

  it('reads a mutated certificate PEM (text or DER) or refuses it with a PkiError', () => {
    const text = fc.constantFrom(...certs).chain(textMutation);
    const der = fc.constantFrom(...certs).chain((pem) => mutationOf(decodePem(pem).der)).map((m) => encodePem('CERTIFICATE', m.bytes));
    fuzz(
      'PEM: certificates',
      fc.property(fc.oneof(text, der), (pem) => {
        const input = describeInput(pem);
        expect(decodePemBlocks(pem)).to.be.an('array');
        const cert = cleanOutcome(() => parseCertificatePem(pem), [PkiError], input);
        if (cert) cleanOutcome(() => inspectCertificate(cert), [PkiError], `inspect ${input}`);
        cleanOutcome(() => parseCertificateBundle(pem), [PkiError], `bundle ${input}`);
        expect(certificateProblem(pem) ?? '').to.be.a('string');
        goodKeyStillParses();
      }),
      150,
    );
  });

  it('reads a mutated private key PEM or refuses it with a PkiError; the pair checks return a problem, never throw', () => {
    const text = fc.constantFrom(...keys).chain(textMutation);
    const der = fc.constantFrom(...keys).chain((pem) => mutationOf(decodePem(pem).der).map((m) => encodePem(decodePem(pem).label, m.bytes)));
    fuzz(
      'PEM: private keys',
      fc.property(fc.oneof(text, der), fc.constantFrom(...certs), (pem, crt) => {
        cleanOutcome(() => parsePrivateKeyPem(pem), [PkiError], describeInput(pem));
        expect(privateKeyProblem(pem) ?? '').to.be.a('string');
        expect(certAndKeyProblem({ crt, key: pem }) ?? '').to.be.a('string');
        cleanOutcome(() => caFromPem(crt, pem), [PkiError], describeInput(pem));
        goodKeyStillParses();
      }),
      150,
    );
  });

  it('refuses a mutated CSR PEM text with a CsrError', () => {
    fuzz(
      'PEM: CSR text',
      fc.property(fc.constantFrom(...csrs).chain(textMutation), (pem) => void cleanOutcome(() => parseCsr(pem), [CsrError], describeInput(pem))),
      150,
    );
  });
});
