// Fuzzes the DER reader and the parsers built on it (certificate structure, CSR): whatever the bytes, the outcome is a
// value or a DerError/PkiError/CsrError with a message of our own.
import { expect } from 'chai';
import fc from 'fast-check';
import { DerError, readBitString, readDer, readBoolean, readOid, readSmallInt, readString, readTime, readUnsigned } from '../../src/pki/der-reader.js';
import { parseCertificateStructure } from '../../src/pki/certificate-structure.js';
import { CsrError, PkiError, decodePem, encodePem, parseCsr } from '../../src/pki/index.js';
import { cleanOutcome, describeInput } from './clean-outcome.js';
import { asn1Tree, mutationOf, sampleCertificates, sampleCsrs } from './der-inputs.js';
import { ourNodes, ourTree } from './der-walk.js';
import { fuzz } from './fuzz-settings.js';

const TYPED_READERS = [readOid, readString, readTime, readBoolean, readBitString, readUnsigned, readSmallInt];

/** Walks the whole value and runs every typed reader on every node: each step returns or throws a DerError. */
function readEverything(bytes: Buffer): void {
  const nodes = cleanOutcome(() => ourNodes(bytes), [DerError], describeInput(bytes));
  for (const node of nodes ?? []) for (const read of TYPED_READERS) cleanOutcome(() => read(node), [DerError], `${read.name} on ${describeInput(bytes)}`);
}

describe('fuzz: DER reader, certificate structure and CSR parser', function () {
  this.timeout(120_000);
  const certificates = sampleCertificates();
  const csrs = sampleCsrs();
  const csrDer = csrs.map((pem) => decodePem(pem).der);

  it('refuses an odd-length BMPString with a DerError (fuzz finding: a RangeError from Buffer.swap16 leaked)', () => {
    const odd = Buffer.from([0x1e, 0x03, 0x00, 0x41, 0x00]);
    expect(() => readString(readDer(odd))).to.throw(DerError, 'BMPString: odd length 3');
    expect(readString(readDer(Buffer.from([0x1e, 0x04, 0x00, 0x41, 0x00, 0x42])))).to.equal('AB');
  });

  it('reads every valid DER tree fast-check builds, with the exact header offsets and lengths', () => {
    fuzz(
      'DER: valid trees accepted',
      fc.property(asn1Tree, (der) => {
        const tree = ourTree(der);
        const last = tree[tree.length - 1];
        expect(tree[0].headerLength + tree[0].length).to.equal(der.length);
        expect(last.offset + last.headerLength + last.length).to.be.at.most(der.length);
      }),
    );
  });

  it('refuses arbitrary bytes with a DerError or reads them, and every typed reader does the same', () => {
    fuzz('DER: arbitrary bytes', fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => readEverything(Buffer.from(bytes))), 500);
  });

  it('refuses mutated trees and certificates with a DerError or reads them, typed readers included', () => {
    const input = fc.oneof(asn1Tree, fc.constantFrom(...certificates, ...csrDer)).chain(mutationOf);
    fuzz('DER: mutations of valid DER', fc.property(input, (m) => readEverything(m.bytes)), 300);
  });

  it('reads a mutated certificate into its fields or refuses it with a DerError', () => {
    const input = fc.constantFrom(...certificates).chain(mutationOf);
    fuzz(
      'certificate structure: mutations',
      fc.property(input, (m) => {
        cleanOutcome(() => parseCertificateStructure(m.bytes), [DerError, PkiError], `${m.kind}: ${describeInput(m.bytes)}`);
      }),
      300,
    );
  });

  it('refuses a mutated CSR with a CsrError (decode, parse or signature) or reads one whose signature verifies', () => {
    const input = fc.constantFrom(...csrDer).chain(mutationOf);
    fuzz(
      'CSR: mutations of valid CSRs',
      fc.property(input, (m) => {
        const parsed = cleanOutcome(() => parseCsr(encodePem('CERTIFICATE REQUEST', m.bytes)), [CsrError], `${m.kind}: ${describeInput(m.bytes)}`);
        // accepted means: these very bytes were read, and their signature verified
        if (parsed) expect(parsed.der.equals(m.bytes), m.kind).to.equal(true);
      }),
      300,
    );
  });
});
