// Differential test of our DER reader against node-forge's ASN.1 reader and `openssl asn1parse`: on every input that
// ours accepts, both must accept too and see the same TLVs (offset, depth, header length, length, tag); what both
// refuse, ours must refuse. Ours may refuse more: it is DER-only, while both judges also read BER (indefinite and
// non-minimal lengths) and OpenSSL reads several values in a row.
import { expect } from 'chai';
import fc from 'fast-check';
import { DerError, readString } from '../../src/pki/der-reader.js';
import { decodePem } from '../../src/pki/index.js';
import { cleanupTempFiles } from '../pki/openssl.js';
import { describeInput } from './clean-outcome.js';
import { asn1Tree, mutationOf, sampleCertificates, sampleCsrs } from './der-inputs.js';
import { forgeTree, opensslTagName, opensslTrees, opensslTreesOfValid } from './der-judges.js';
import type { OpensslVerdict } from './der-judges.js';
import { ourNodes, ourTree } from './der-walk.js';
import type { TlvEntry } from './der-walk.js';
import { FUZZ_SEED, LONG_RUN, numRuns, recordCases } from './fuzz-settings.js';

// What our reader refuses that a BER reader may read: X.690 10.1 (definite, minimal lengths), 8.1.5 (end-of-contents
// only in an indefinite length), one value per input, and our own limits (single-byte tags, lengths below 2^32).
const DER_ONLY_RULES = /non-minimal length|indefinite length|trailing bytes|end-of-contents|multi-byte tags|length too large/;

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** forge refuses an odd-length BMPString (two octets per character); so does our typed reader, readString. */
function oddBmpString(der: Buffer): boolean {
  const odd = ourNodes(der).filter((n) => (n.tag & 0x3f) === 0x1e && (n.end - n.contentStart) % 2 === 1);
  for (const n of odd) expect(() => readString(n), describeInput(der)).to.throw(DerError);
  return odd.length > 0;
}

function expectSameAsOpenssl(ours: TlvEntry[], verdict: OpensslVerdict, input: string): void {
  expect(verdict, `openssl asn1parse refused what our reader accepted: ${input}`).to.not.equal(undefined);
  const theirs = verdict!.map((e) => `${e.offset}:${e.depth}:${e.headerLength}:${e.length}:${e.constructed ? 'cons' : 'prim'}:${e.name}`);
  const mine = ours.map((e) => `${e.offset}:${e.depth}:${e.headerLength}:${e.length}:${e.tag & 0x20 ? 'cons' : 'prim'}:${opensslTagName(e.tag)}`);
  expect(mine, input).to.deep.equal(theirs);
}

describe('fuzz: DER reader against node-forge and openssl asn1parse', function () {
  this.timeout(300_000);
  after(cleanupTempFiles);

  const valid = [...sampleCertificates(), ...sampleCsrs().map((pem) => decodePem(pem).der)];
  const size = numRuns(200, true);
  // one fixed sample per run: valid trees (read by openssl in one run) and mutations of trees, certificates and CSRs
  // (one openssl run each, as a mutation may stop it)
  const trees = fc.sample(asn1Tree, { seed: FUZZ_SEED, numRuns: size });
  const mutated = fc.sample(fc.oneof(asn1Tree, fc.constantFrom(...valid)).chain(mutationOf), { seed: FUZZ_SEED + 1, numRuns: Math.ceil(size * 0.6) }).map((m) => m.bytes);

  it('accepts every valid input, and sees the same TLVs as forge and asn1parse', () => {
    const inputs = [...valid, ...trees];
    recordCases('DER differential: valid inputs', inputs.length);
    const verdicts = opensslTreesOfValid(inputs);
    inputs.forEach((der, i) => {
      const ours = ourTree(der);
      expect(forgeTree(der), describeInput(der)).to.deep.equal(ours);
      expectSameAsOpenssl(ours, verdicts[i], describeInput(der));
    });
  });

  it('on mutated input: agrees with both judges on what it accepts, and refuses what both refuse', () => {
    recordCases('DER differential: mutated inputs', mutated.length);
    const verdicts = opensslTrees(mutated);
    const tally = { acceptedByAll: 0, refusedByAll: 0, refusedByOursOnly: 0, forgeBmpString: 0 };
    mutated.forEach((der, i) => {
      const input = describeInput(der);
      const ours = attempt(() => ourTree(der));
      const forgeSaw = attempt(() => forgeTree(der));
      const opensslSaw = verdicts[i];
      if (!ours) {
        // readDer's refusal is a DerError, never an engine error
        expect(() => ourTree(der)).to.throw(DerError);
        if (!forgeSaw && !opensslSaw) tally.refusedByAll++;
        else {
          // a judge read it: our refusal must be one of the DER rules that BER (and OpenSSL's run of values) relaxes
          tally.refusedByOursOnly++;
          expect(() => ourTree(der), input).to.throw(DerError, DER_ONLY_RULES);
        }
        return;
      }
      expectSameAsOpenssl(ours, opensslSaw, input);
      if (!forgeSaw && oddBmpString(der)) {
        tally.forgeBmpString++;
        return;
      }
      expect(forgeSaw, `node-forge refused what our reader accepted: ${input}`).to.deep.equal(ours);
      tally.acceptedByAll++;
    });
    if (LONG_RUN) console.log(`      differential: ${mutated.length} mutated inputs: ${JSON.stringify(tally)}`);
    // the sample must exercise both sides, or the test proves nothing
    expect(tally.acceptedByAll).to.be.greaterThan(0);
    expect(tally.refusedByAll).to.be.greaterThan(0);
  });

  it('refuses the BER forms both judges read: indefinite and non-minimal lengths, trailing values, end-of-contents', () => {
    // the last one is a differential finding: both judges read an end-of-contents (tag 0) inside a definite length,
    // which X.690 8.1.5 allows only to close an indefinite length; our reader read it too before the fix
    const ber = ['3080020105 0000', '3081030201 05', '308200030201 05', '020105 0500', '3004 0000 0500'].map((h) => Buffer.from(h.replace(/ /g, ''), 'hex'));
    const verdicts = opensslTrees(ber);
    ber.forEach((der, i) => {
      expect(verdicts[i], `asn1parse reads ${der.toString('hex')}`).to.not.equal(undefined);
      expect(() => ourTree(der), der.toString('hex')).to.throw(DerError);
    });
  });
});
