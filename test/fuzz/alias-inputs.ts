// YAML anchors and aliases for the fuzzers: values that define and use them (well, badly, recursively), "billion
// laughs" bombs of every size around the alias budget, and whole files with such values at chosen fields.
import fc from 'fast-check';
import { stringify } from 'yaml';
import { setIn } from './text-inputs.js';

const anchorName = fc.constantFrom('a', 'b', 'c');
const flowKey = fc.oneof(fc.constantFrom('k', 'crt', 'certSANs', '__proto__', '$patch'), anchorName.map((n) => `*${n} `), anchorName.map((n) => `&${n} k`));
const flowLeaf = fc.constantFrom('x', '1', 'null', '""', 'true', '10.5.0.2', '-----BEGIN CERTIFICATE-----');

/**
 * A YAML value in flow style with anchors on some of its parts and aliases to them: to an anchor before it, to one
 * not yet (or never) defined, or to a value that encloses the alias.
 */
export const aliasedValue: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    flowLeaf,
    anchorName.map((n) => `*${n}`),
    fc.tuple(anchorName, tie('value')).map(([n, v]) => `&${n} ${v}`),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(', ')}]`),
    fc.array(fc.tuple(flowKey, tie('value')), { maxLength: 4 }).map((pairs) => `{${pairs.map(([k, v]) => `${k}: ${v}`).join(', ')}}`),
  ),
})).value;

/** "Billion laughs": levels of `fan` aliases to the level below; small ones fit the alias budget, big ones do not. */
export const aliasBomb: fc.Arbitrary<string> = fc.tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 10 })).map(([depth, fan]) => {
  const levels = Array.from({ length: depth }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(fan).fill(`*l${i}`).join(', ')}]`);
  return `{l0: &l0 [x, y], ${levels.join(', ')}}`;
});

const HOLE = 'ALIASED_VALUE_HOLE';

/**
 * `tree` written as YAML with an aliased value (or a bomb) at one of `paths` and, sometimes, an alias to one of its
 * anchors at another: the alias comes before or after the anchor depending on where the two fields are written.
 */
export function aliasedTreeText(tree: unknown, paths: readonly (readonly (string | number)[])[]): fc.Arbitrary<string> {
  const value = fc.oneof({ weight: 4, arbitrary: aliasedValue }, { weight: 1, arbitrary: aliasBomb });
  return fc.tuple(fc.constantFrom(...paths), value, fc.option(fc.tuple(fc.constantFrom(...paths), anchorName), { nil: undefined })).map(([path, text, alias]) => {
    let filled = setIn(tree, path, `${HOLE}1`);
    if (alias) filled = setIn(filled, alias[0], `${HOLE}2`);
    return stringify(filled).replace(`${HOLE}1`, text).replace(`${HOLE}2`, `*${alias?.[1] ?? 'a'}`);
  });
}
