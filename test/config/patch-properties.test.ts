import { expect } from 'chai';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { PatchError, parsePatch, patchYaml } from '../../src/config/index.js';

type Value = string | boolean | Value[] | { [key: string]: Value };

const isMap = (v: unknown): v is Record<string, Value> => typeof v === 'object' && v !== null && !Array.isArray(v);
const MISMATCH = Symbol('mismatch');

/** The rules as a reference model on plain data (for fields without special rules). */
function overlay(left: Value | undefined, right: Value): Value | typeof MISMATCH {
  if (left === undefined) return right;
  if (isMap(right)) {
    if (!isMap(left)) return MISMATCH;
    const out: Record<string, Value> = { ...left };
    for (const [k, v] of Object.entries(right)) {
      const merged = overlay(left[k], v);
      if (merged === MISMATCH) return MISMATCH;
      out[k] = merged;
    }
    return out;
  }
  if (Array.isArray(right)) return Array.isArray(left) ? [...left, ...right] : MISMATCH;
  if (isMap(left) || Array.isArray(left)) return MISMATCH;
  return right === '' ? left : right; // an empty string is Go's zero value: it does not overwrite; false does
}

const value: fc.Arbitrary<Value> = fc.letrec<{ value: Value }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('', 'x', 'y'),
    fc.boolean(),
    fc.array(fc.constantFrom('p', 'q'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('value'), { maxKeys: 3 }),
  ),
})).value;
const tree = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), value, { maxKeys: 4 });

const configText = (machine: Record<string, Value>) => stringify({ version: 'v1alpha1', machine });
const merge = (machine: Record<string, Value>, patch: Record<string, Value>) =>
  patchYaml(configText(machine), [parsePatch(stringify({ machine: patch }), 'p.yaml')]);

describe('config patches: properties', () => {
  it('merges like the reference model: maps per key, lists append, scalars overwrite unless empty, kinds must agree', () => {
    fc.assert(
      fc.property(tree, tree, (left, right) => {
        const expected = overlay(left, right);
        if (expected === MISMATCH) {
          expect(() => merge(left, right)).to.throw(PatchError, /expected a (map|list|string|boolean) \(as in the config\), got/);
          return;
        }
        expect((parse(merge(left, right)) as { machine: unknown }).machine).to.deep.equal(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('applying a patch without lists twice gives what applying it once gives', () => {
    const listFree = fc.dictionary(fc.constantFrom('a', 'b'), fc.oneof(fc.constantFrom('x', 'y'), fc.boolean()), { maxKeys: 2 });
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('a', 'b', 'c'), listFree, { maxKeys: 3 }), (patch) => {
        const p = parsePatch(stringify({ machine: patch }), 'p.yaml');
        const once = patchYaml(configText({ z: 'keep' }), [p]);
        expect(parse(patchYaml(once, [p]))).to.deep.equal(parse(once));
      }),
      { numRuns: 200 },
    );
  });

  it('an RFC 6902 add followed by a remove of the same new key restores the config', () => {
    fc.assert(
      fc.property(tree, fc.constantFrom('n1', 'n2'), value, (machine, key, v) => {
        const ops = stringify([
          { op: 'add', path: `/machine/${key}`, value: v },
          { op: 'remove', path: `/machine/${key}` },
        ]);
        const text = configText(machine);
        expect(parse(patchYaml(text, [parsePatch(ops, 'ops.yaml')]))).to.deep.equal(parse(text));
      }),
      { numRuns: 200 },
    );
  });
});
