import { expect } from 'chai';
import fc from 'fast-check';
import { bitString, directoryString, integer, namedBits, octetString, oid, sequence, setOf, time, tlv } from '../../src/pki/der.js';
import { children, content, readBitString, readDer, readOid, readString, readTime, readUnsigned } from '../../src/pki/der-reader.js';
import { cleanupTempFiles, openssl, tempFile } from './openssl.js';

const bigintFromBytes = (b: Buffer) => (b.length ? BigInt('0x' + b.toString('hex')) : 0n);

describe('pki/der', () => {
  after(cleanupTempFiles);

  it('round-trips non-negative integers through the writer and the reader, minimally encoded', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 160n) - 1n }), (v) => {
        const der = integer(v);
        const c = content(readDer(der));
        expect(bigintFromBytes(readUnsigned(readDer(der)))).to.equal(v);
        // DER: no leading 0x00 unless the next byte has its high bit set
        if (c.length > 1) expect(c[0] === 0 ? (c[1] & 0x80) !== 0 : true).to.equal(true);
      }),
    );
  });

  it('round-trips object identifiers', () => {
    const arc = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(arc, { maxLength: 8 }), (a, b, rest) => {
        const dotted = [a, b, ...rest].join('.');
        expect(readOid(readDer(oid(dotted)))).to.equal(dotted);
      }),
    );
  });

  it('encodes lengths of any size so that the reader recovers the content exactly', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70_000, size: 'max' }), (bytes) => {
        const n = readDer(octetString(bytes));
        expect(Buffer.compare(content(n), Buffer.from(bytes))).to.equal(0);
      }),
      { numRuns: 30 },
    );
  });

  it('uses UTCTime through 2049 and GeneralizedTime from 2050, in whole UTC seconds', () => {
    expect(time(new Date('2049-12-31T23:59:59.900Z')).toString('latin1')).to.equal('\x17\x0d491231235959Z');
    expect(time(new Date('2050-01-01T00:00:00Z')).toString('latin1')).to.equal('\x18\x0f20500101000000Z');
    expect(time(new Date('1950-01-01T00:00:00Z'))[0]).to.equal(0x17);
    fc.assert(
      fc.property(fc.date({ min: new Date('1950-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (d) => {
        const back = readTime(readDer(time(d)));
        expect(back.getTime()).to.equal(Math.floor(d.getTime() / 1000) * 1000);
      }),
    );
  });

  it('drops trailing zero bits of named-bit strings as DER requires', () => {
    // digitalSignature (0) + keyCertSign (5): 10000100, 2 unused bits
    expect(namedBits([0, 5]).toString('hex')).to.equal('03020284');
    expect(namedBits([0]).toString('hex')).to.equal('03020780');
    // decipherOnly (8) spills into a second byte
    expect(namedBits([0, 8]).toString('hex')).to.equal('0303078080');
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 15 }), { minLength: 1 }), (bits) => {
        const { bytes, unused } = readBitString(readDer(namedBits(bits)));
        const set = new Set<number>();
        for (let i = 0; i < bytes.length * 8 - unused; i++) if (bytes[i >> 3] & (0x80 >> (i & 7))) set.add(i);
        expect([...set].sort((a, b) => a - b)).to.deep.equal([...bits].sort((a, b) => a - b));
        expect(set.has(bytes.length * 8 - unused - 1)).to.equal(true);
      }),
    );
  });

  it('sorts SET OF elements by their encoding', () => {
    const a = integer(300);
    const b = integer(2);
    expect(children(readDer(setOf(a, b))).map((n) => bigintFromBytes(readUnsigned(n)))).to.deep.equal([2n, 300n]);
  });

  it('chooses PrintableString when it can and UTF8String otherwise, both readable', () => {
    expect(directoryString('system:masters')[0]).to.equal(0x13);
    expect(directoryString('os_admin@x')[0]).to.equal(0x0c);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(readString(readDer(directoryString(s)))).to.equal(s);
      }),
    );
  });

  it('rejects indefinite and non-minimal lengths, truncation and trailing bytes', () => {
    expect(() => readDer(Buffer.from('3080', 'hex'))).to.throw(/indefinite/);
    expect(() => readDer(Buffer.from('0481050102030405', 'hex'))).to.throw(/non-minimal/);
    expect(() => readDer(Buffer.from('040501', 'hex'))).to.throw(/truncated/);
    expect(() => readDer(Buffer.from('04010100', 'hex'))).to.throw(/trailing/);
  });

  it('writes structures that OpenSSL parses to the same values', () => {
    const der = sequence(integer(65537n), oid('1.2.840.113549.1.1.11'), bitString(Buffer.from([1, 2, 3])), tlv(0x0c, Buffer.from('héllo')), time(new Date('2051-02-03T04:05:06Z')));
    const r = openssl(['asn1parse', '-inform', 'DER', '-in', tempFile(der, '.der')]);
    expect(r.ok, r.out).to.equal(true);
    expect(r.out).to.match(/INTEGER\s+:010001/);
    expect(r.out).to.match(/OBJECT\s+:sha256WithRSAEncryption/);
    expect(r.out).to.match(/BIT STRING/);
    expect(r.out).to.match(/UTF8STRING\s+:h/);
    expect(r.out).to.match(/GENERALIZEDTIME\s+:20510203040506Z/);
  });
});
