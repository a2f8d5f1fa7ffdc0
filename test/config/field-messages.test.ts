import { expect } from 'chai';
import {
  ConfigError,
  contextCredentials,
  formatTalosconfig,
  issueClientCertificate,
  mergeTalosconfig,
  newContext,
  parseSecretsBundle,
  parseTalosconfig,
  selectContext,
  validateSecretsBundle,
} from '../../src/config/index.js';
import { encodePrivateKeyPem, generateKeyPairSync } from '../../src/pki/index.js';
import { readFixture } from './support/talos-fixtures.js';

const bundle = () => validateSecretsBundle(parseSecretsBundle(readFixture('secrets', 'secrets.yaml')));

describe('messages name the field', () => {
  it('names contexts.<name>.key when a talosconfig key does not match its certificate (not an OpenSSL code)', async () => {
    const client = await issueClientCertificate(bundle().certs.os, { roles: ['os:reader'] });
    const other = encodePrivateKeyPem(generateKeyPairSync('ed25519'));
    const ctx = newContext(['10.0.0.1'], { caPem: bundle().certs.os.crt, crtPem: client.crt, keyPem: other });
    expect(() => contextCredentials('prod', ctx)).to.throw(
      ConfigError,
      'contexts.prod.key: does not match the certificate in contexts.prod.crt; a context needs its own key pair (make a new one with trustctl config new)',
    );
    const good = newContext(['10.0.0.1'], { caPem: bundle().certs.os.crt, crtPem: client.crt, keyPem: client.key });
    expect(contextCredentials('prod', good).keyPem).to.equal(client.key);
  });

  it('says what a PEM field held when it is not base64: certs.os.crt: 12345', () => {
    const text = readFixture('secrets', 'secrets.yaml').replace(/( {4}os:\n {8}crt: )\S+/, '$112345');
    expect(() => parseSecretsBundle(text)).to.throw(
      ConfigError,
      'certs.os.crt: expected standard base64 of a PEM block (as written by talosctl, or `base64 -w0 FILE.pem`), got "12345", which is not base64: 5 characters where base64 comes in groups of 4',
    );
    const key = readFixture('secrets', 'secrets.yaml').replace(/( {4}os:\n {8}crt: \S+\n {8}key: )\S+/, '$1SECRET*VALUE');
    const err = (() => {
      try {
        parseSecretsBundle(key);
      } catch (e) {
        return e as Error;
      }
      throw new Error('accepted');
    })();
    expect(err.message).to.match(/^certs\.os\.key: .*got a value that is not base64: a character base64 does not use$/);
    expect(err.message).to.not.contain('SECRET');
  });

  it('keeps a context named __proto__ (or constructor) as a context like any other', () => {
    const creds = { caPem: 'ca\n', crtPem: 'crt\n', keyPem: 'key\n' };
    // Object.fromEntries defines an own "__proto__" key, as JSON.parse and YAML parsing do
    const text = formatTalosconfig({ context: '__proto__', contexts: Object.fromEntries([['__proto__', newContext(['10.0.0.1'], creds)]]) });
    expect(text).to.contain('__proto__:');
    const parsed = parseTalosconfig(text);
    expect(selectContext(parsed).context.endpoints).to.deep.equal(['10.0.0.1']);
    const merged = mergeTalosconfig(parsed, { context: 'constructor', contexts: { constructor: newContext(['10.0.0.2'], creds) } }).merged;
    expect(Object.keys(merged.contexts).sort()).to.deep.equal(['__proto__', 'constructor']);
    expect(selectContext(merged).context.endpoints).to.deep.equal(['10.0.0.2']);
    expect(() => selectContext(merged, 'toString')).to.throw(ConfigError, 'context "toString" is not defined (defined: __proto__, constructor)');
  });
});
