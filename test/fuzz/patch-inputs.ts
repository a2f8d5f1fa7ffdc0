// Machine config fields and patch texts for the fuzzers of src/config and of apid's machine config calls.
import fc from 'fast-check';
import { stringify } from 'yaml';
import { readFixture } from '../config/support/talos-fixtures.js';
import { aliasBomb, aliasedValue } from './alias-inputs.js';
import { setIn, textMutation, yamlishString } from './text-inputs.js';

/** The PKI fields of a v1alpha1 config and their parents, where a value of the wrong kind does the most harm. */
export const FIELD_PATHS: readonly (readonly (string | number)[])[] = [
  ['version'], ['machine'], ['machine', 'type'], ['machine', 'token'], ['machine', 'ca'], ['machine', 'ca', 'crt'], ['machine', 'ca', 'key'],
  ['machine', 'acceptedCAs'], ['machine', 'acceptedCAs', 0], ['machine', 'acceptedCAs', 0, 'crt'], ['machine', 'certSANs'], ['machine', 'certSANs', 1],
  ['cluster'], ['cluster', 'id'], ['cluster', 'secret'], ['cluster', 'clusterName'], ['cluster', 'controlPlane', 'endpoint'], ['cluster', 'token'],
  ['cluster', 'secretboxEncryptionSecret'], ['cluster', 'ca'], ['cluster', 'ca', 'crt'], ['cluster', 'acceptedCAs'], ['cluster', 'aggregatorCA', 'key'],
  ['cluster', 'serviceAccount'], ['cluster', 'serviceAccount', 'key'], ['cluster', 'apiServer', 'certSANs'], ['cluster', 'etcd', 'ca'], ['cluster', 'etcd', 'ca', 'crt'],
];

const pointerSegment = fc.oneof(fc.constantFrom('machine', 'cluster', 'certSANs', 'ca', 'crt', 'acceptedCAs', 'network', '-', '0', '1', '99', '', '~0', '~1', '~2', 'a~', '$patch'), fc.string({ maxLength: 6 }));
const pointer = fc.oneof(fc.array(pointerSegment, { maxLength: 4 }).map((s) => `/${s.join('/')}`), fc.string({ maxLength: 10 }));

/** A strategic merge patch in flow style with anchored and aliased values at a PKI field, or a bomb there. */
export const aliasedStrategicPatch: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...FIELD_PATHS.filter((p) => p.every((k) => typeof k === 'string'))), fc.oneof({ weight: 4, arbitrary: aliasedValue }, { weight: 1, arbitrary: aliasBomb }))
  .map(([path, value]) => path.reduceRight<string>((inner, key) => `{${String(key)}: ${inner}}`, value));

/** An RFC 6902 patch in flow style whose values carry anchors and aliases, across operations too. */
export const aliasedJsonPatch: fc.Arbitrary<string> = fc
  .array(fc.tuple(fc.constantFrom('add', 'replace', 'test', 'copy'), fc.constantFrom('/machine/certSANs', '/machine/certSANs/-', '/machine/x', '/cluster/id'), fc.oneof(aliasedValue, aliasBomb)), { minLength: 1, maxLength: 3 })
  .map((ops) => `[${ops.map(([op, path, value]) => `{op: ${op}, path: ${path}, from: /machine/type, value: ${value}}`).join(', ')}]`);

/** A strategic merge patch: a partial config with `value` somewhere, YAML-ish text, or a mutated real patch. */
export function strategicPatchText(values: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(fc.constantFrom(...FIELD_PATHS), values).map(([path, value]) => stringify(setIn({}, path, value))),
    yamlishString,
    aliasedStrategicPatch,
    fc.constantFrom(readFixture('patches', 'strategic.yaml'), readFixture('patches', 'apply', 'strategic1.yaml')).chain(textMutation),
  );
}

/** An RFC 6902 patch in JSON or YAML: operations with any op, pointer and value, or a mutated real patch. */
export function jsonPatchText(values: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  const op = fc.record(
    { op: fc.oneof(fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test'), fc.string({ maxLength: 5 })), path: pointer, from: pointer, value: values },
    { requiredKeys: ['op'] },
  );
  return fc.oneof(
    fc.array(op, { maxLength: 4 }).map((ops) => JSON.stringify(ops)),
    fc.array(op, { maxLength: 4 }).map((ops) => stringify(ops)),
    aliasedJsonPatch,
    fc.constantFrom(readFixture('patches', 'patch.json'), readFixture('patches', 'apply', 'jsonpatch1.yaml')).chain(textMutation),
  );
}
