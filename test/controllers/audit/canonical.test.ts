import { expect } from 'chai';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { canonicalJson, recordHash } from '../../../src/controllers/audit/canonical.js';
import type { AuditRecordSpec } from '../../../src/resources/audit-records.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
// Keys that sort differently by code unit than by locale, and JSON-hostile text.
const key = fc.oneof(fc.string(), fc.constantFrom('a', 'B', 'é', '__proto__', '10', '2', 'Z', '"', '\u2028'));
const flatValue = fc.oneof(fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.array(fc.string(), { maxLength: 4 }));
const record = fc.record(
  {
    seq: fc.integer({ min: 1 }),
    prev: fc.string(),
    time: fc.string(),
    actor: fc.string(),
    source: fc.string(),
    action: fc.string(),
    details: fc.dictionary(key, fc.option(flatValue, { nil: undefined }), { maxKeys: 8 }),
  },
  { requiredKeys: ['seq', 'prev', 'time', 'actor', 'action', 'details'] },
);

describe('audit canonical encoding', () => {
  it("hashes every record as the generic canonical walk does, whatever its details' keys, values and order", () => {
    fc.assert(
      fc.property(record, (spec) => {
        expect(recordHash(spec as AuditRecordSpec)).to.equal(sha(canonicalJson(spec)));
      }),
      { numRuns: 2000 },
    );
  });

  it('hashes a record of another shape (edited in the store: nested details, an extra field, null) by the generic walk', () => {
    const base = { seq: 1, prev: '0'.repeat(64), time: 't', actor: 'a', action: 'x', details: { b: '1', a: 2 } };
    const odd: unknown[] = [
      { ...base, details: { nested: { z: 1, a: [1, { b: null }] } } },
      { ...base, extra: 'field' },
      { ...base, details: null },
      { ...base, details: ['a'] },
      { ...base, details: { list: ['a', 3] } },
      { ...base, seq: { n: 1 } },
      { ...base, source: undefined },
    ];
    for (const spec of odd) expect(recordHash(spec as AuditRecordSpec), JSON.stringify(spec)).to.equal(sha(canonicalJson(spec)));
    // Key order does not change the hash; a changed byte does.
    const reordered = { details: { a: 2, b: '1' }, action: 'x', actor: 'a', time: 't', prev: '0'.repeat(64), seq: 1 };
    expect(recordHash(reordered)).to.equal(recordHash(base));
    expect(recordHash({ ...base, details: { b: '2', a: 2 } })).to.not.equal(recordHash(base));
  });
});
