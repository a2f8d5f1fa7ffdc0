// Inputs for the text parsers (YAML/JSON configs, PEM): values of every YAML kind, values that are almost what a
// field wants, and mutations of real files (truncation, deleted ranges, inserted YAML syntax, swapped lines).
import fc from 'fast-check';
import { encodePemField } from '../../src/config/index.js';

// Anchors and aliases included: patches resolve them within a budget (resolve-aliases.ts), files refuse a bomb by name.
const YAML_SYNTAX = ['&a ', '*a', '&b ', '*b', '<<: *a', '*', '&', ': ', '- ', '\n', '\n  ', '"', "'", '{', '}', '[', ']', ',', '#', '---\n', '...\n', '|', '>', '!!binary ', '!!str ', '? ', '%YAML 1.2\n', '\t', '\\', '\u0000', '\uFEFF', '€'];

/** Strings with a fair share of YAML syntax, so a parser sees more than plain words. */
export const yamlishString: fc.Arbitrary<string> = fc
  .array(fc.oneof(fc.constantFrom(...YAML_SYNTAX), fc.string({ maxLength: 8 }), fc.constantFrom('v1alpha1', 'machine', 'cluster', 'crt', 'key', 'true', 'null', '~', '0x1F', '1e400', '-0', '.inf', '0o17')), { maxLength: 30 })
  .map((parts) => parts.join(''));

/** Values for a config field: every YAML kind, near-misses of PEM and base64, tokens, addresses and junk. */
export function fieldValue(pems: readonly string[]): fc.Arbitrary<unknown> {
  const leaf = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.constantFrom('', 'controlplane', 'worker', 'init', 'abcdef.0123456789abcdef', 'https://10.5.0.2:6443', '10.0.0.300', '::1', 'fd00::1', '*.example.com', 'a'.repeat(300)),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.base64String({ maxLength: 40 }),
    fc.constantFrom(...pems).map(encodePemField),
    fc.constantFrom(...pems).chain(textMutation).map(encodePemField),
  );
  return fc.oneof(
    { weight: 4, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(leaf, { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('crt', 'key', 'ca', 'endpoint', 'x', '$patch'), leaf, { maxKeys: 3 }) },
  );
}

/** One mutation of a text file. */
export function textMutation(text: string): fc.Arbitrary<string> {
  const at = fc.nat({ max: text.length });
  const lines = text.split('\n');
  return fc.oneof(
    at.map((n) => text.slice(0, n)),
    fc.tuple(at, fc.nat({ max: 40 })).map(([i, n]) => text.slice(0, i) + text.slice(i + n)),
    fc.tuple(at, fc.constantFrom(...YAML_SYNTAX, '-----END CERTIFICATE-----\n', '-----BEGIN CERTIFICATE-----\n', '=', 'A')).map(([i, s]) => text.slice(0, i) + s + text.slice(i)),
    fc.tuple(fc.nat({ max: lines.length - 1 }), fc.nat({ max: lines.length - 1 })).map(([a, b]) => {
      const copy = [...lines];
      [copy[a], copy[b]] = [copy[b], copy[a]];
      return copy.join('\n');
    }),
    fc.tuple(at, fc.integer({ min: 0, max: 0xffff })).map(([i, c]) => text.slice(0, i) + String.fromCharCode(c) + text.slice(i + 1)),
  );
}

/** Sets `value` at `path` in a deep copy of `tree`, creating maps on the way. */
export function setIn(tree: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(tree)) {
    const copy: unknown[] = [...tree];
    copy[Number(head)] = setIn(copy[Number(head)], rest, value);
    return copy;
  }
  const copy: Record<string, unknown> = typeof tree === 'object' && tree !== null ? { ...tree } : {};
  copy[head] = setIn(copy[head], rest, value);
  return copy;
}
