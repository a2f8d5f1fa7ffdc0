import { expect } from 'chai';
import { PkiError } from '../../../src/pki/index.js';
import { formatPkcs11Uri, parsePkcs11Uri } from '../../../src/pki/pkcs11/index.js';
import { thrown } from '../../support/caught.js';

describe('pki/pkcs11 URIs (RFC 7512)', () => {
  it('reads an RFC 7512 example: percent-escaped text, a binary id, the object type', () => {
    const uri = parsePkcs11Uri('pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91');
    expect(uri).to.deep.equal({
      token: 'The Software PKCS#11 Softtoken',
      manufacturer: 'Snake Oil, Inc.',
      model: '1.0',
      object: 'my-certificate',
      type: 'cert',
      id: Buffer.from('69953e5cf4bdec91', 'hex'),
      query: {},
    });
  });

  it('reads query attributes, a slot id, UTF-8 text and vendor x- attributes', () => {
    const uri = parsePkcs11Uri('pkcs11:object=%C3%A9t%C3%A9;slot-id=3;x-vendor=1?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/pin');
    expect(uri.object).to.equal('été');
    expect(uri.slotId).to.equal(3);
    expect(uri.query).to.deep.equal({ 'module-path': '/usr/lib/softhsm/libsofthsm2.so', 'pin-source': 'file:/etc/pin' });
    expect(parsePkcs11Uri('pkcs11:')).to.deep.equal({ query: {} });
    expect(parsePkcs11Uri('PKCS11:token=a').token).to.equal('a');
  });

  it('prints what it reads, and reads back what it prints, escaping every byte outside the unreserved set', () => {
    const uri = { token: 'trust plane;#1', object: 'os CA/é', id: Buffer.from([0, 1, 0xfe, 0x25]), type: 'private' as const, query: { 'module-path': '/usr/lib/x.so' } };
    const text = formatPkcs11Uri(uri);
    expect(text).to.equal('pkcs11:token=trust%20plane%3B%231;object=os%20CA%2F%C3%A9;id=%00%01%FE%25;type=private?module-path=%2Fusr%2Flib%2Fx.so');
    expect(parsePkcs11Uri(text)).to.deep.equal(uri);
    for (let seed = 1; seed <= 200; seed++) {
      const bytes = Buffer.from(Array.from({ length: 1 + (seed % 23) }, (_, i) => (seed * 131 + i * 17) & 0xff));
      const back = parsePkcs11Uri(formatPkcs11Uri({ object: `k${seed}`, id: bytes, query: {} }));
      expect(back.id?.equals(bytes), `seed ${seed}`).to.equal(true);
    }
  });

  // Each malformed URI is refused with a PkiError that names the field and the problem.
  const MALFORMED: [string, string][] = [
    ['', 'does not start with "pkcs11:"'],
    ['pkcs11', 'does not start with "pkcs11:"'],
    ['file:///etc/key.pem', 'does not start with "pkcs11:"'],
    ['-----BEGIN EC PRIVATE KEY-----', 'does not start with "pkcs11:"'],
    ['pkcs11:token=a b', 'contains white space (escape it as %20)'],
    ['pkcs11:token=a\n', 'contains white space (escape it as %20)'],
    ['pkcs11:token', '"token" is not an attribute=value pair'],
    ['pkcs11:=x', '"=x" is not an attribute=value pair'],
    ['pkcs11:token=a;;object=b', 'an empty attribute (two ";" in a row, or one at the end)'],
    ['pkcs11:token=a;', 'an empty attribute'],
    ['pkcs11:token=a;token=b', 'attribute "token" appears twice'],
    ['pkcs11:Token=a;token=b', 'attribute "token" appears twice'],
    ['pkcs11:colour=red', 'unknown path attribute "colour"'],
    ['pkcs11:token=a?colour=red', 'unknown query attribute "colour"'],
    ['pkcs11:token=a?pin-value=1&pin-value=2', 'query attribute "pin-value" appears twice'],
    ['pkcs11:token=a?pin-value=1&pin-source=file:/p', '"pin-value" and "pin-source" are both given; give one'],
    ['pkcs11:id=%zz', 'attribute "id" has a bad percent escape "%zz" (two hex digits must follow %)'],
    ['pkcs11:id=%4', 'attribute "id" has a bad percent escape "%4"'],
    ['pkcs11:id=%', 'attribute "id" has a bad percent escape "%"'],
    ['pkcs11:id=', '"id" is empty'],
    ['pkcs11:token=', '"token" is empty'],
    ['pkcs11:object=%FF%FE', 'attribute "object" is not valid UTF-8 once decoded'],
    ['pkcs11:object=a%00b', 'attribute "object" holds a control character'],
    ['pkcs11:object=a%0Ab', 'attribute "object" holds a control character'],
    ['pkcs11:type=secret', 'type "secret" is not one of public, private, cert, secret-key, data'],
    ['pkcs11:slot-id=-1', 'slot-id "-1" is not a decimal number'],
    ['pkcs11:slot-id=0x10', 'slot-id "0x10" is not a decimal number'],
    ['pkcs11:object=a/b', 'attribute "object" holds a character that must be percent-encoded'],
    ['pkcs11:object=a"b', 'attribute "object" holds a character that must be percent-encoded'],
    ['pkcs11:object=a#b', 'attribute "object" holds a character that must be percent-encoded'],
    ['pkcs11:token=a?module-path=a;b', 'query attribute "module-path" holds a character that must be percent-encoded'],
    [`pkcs11:object=${'a'.repeat(5000)}`, '5014 characters, more than 4096'],
  ];
  for (const [text, problem] of MALFORMED) {
    it(`refuses ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text)}: ${problem}`, () => {
      const err = thrown(() => parsePkcs11Uri(text, 'certs.os.key'));
      expect(err).to.be.instanceOf(PkiError);
      expect(err.message).to.include(`certs.os.key: ${problem}`).and.include('expected a PKCS#11 URI (RFC 7512) like pkcs11:token=');
    });
  }

  it('refuses random mutations of a good URI with a PkiError, never another exception', () => {
    const good = 'pkcs11:token=trustplane;object=os%20CA;id=%01%02%03;type=private';
    const alphabet = ';=%?&:/ #"\\\u0000é';
    for (let seed = 1; seed <= 500; seed++) {
      const at = (seed * 7919) % good.length;
      const mutated = good.slice(0, at) + alphabet[seed % alphabet.length] + good.slice(at + (seed % 3));
      try {
        parsePkcs11Uri(mutated);
      } catch (err) {
        expect(err, mutated).to.be.instanceOf(PkiError);
      }
    }
  });
});
