// Fuzzes the machine config reader, its validation and both kinds of patch: a ConfigError (PatchError,
// PatchedConfigInvalid, MultiError) naming the field or patch, or a valid result; and a failed patch leaves the
// config it was given exactly as it was.
import { expect } from 'chai';
import fc from 'fast-check';
import { isAlias, isCollection, parseAllDocuments, stringify, visit } from 'yaml';
import type { Document } from 'yaml';
import { ConfigError, MultiError, PatchError, PatchedConfigInvalid, applyPatches, loadPatches, machineConfigProblems, parseMachineConfig, parsePatch, parsePatches } from '../../src/config/index.js';
import type { MachineConfig, MachineConfigPatch } from '../../src/config/index.js';
import { MAX_ALIAS_EXPANSION } from '../../src/config/patch/resolve-aliases.js';
import { readFixture } from '../config/support/talos-fixtures.js';
import { fixtureBundle } from '../pki/fixtures.js';
import { cleanOutcome, describeInput, expectOurError } from './clean-outcome.js';
import { fuzz } from './fuzz-settings.js';
import { aliasedTreeText, aliasedValue } from './alias-inputs.js';
import { FIELD_PATHS, aliasedStrategicPatch, jsonPatchText, strategicPatchText } from './patch-inputs.js';
import { fieldValue, setIn, textMutation, yamlishString } from './text-inputs.js';

const CONFIG_ERRORS = [ConfigError, MultiError];
// yaml's limit is the product of an anchor's uses and the aliases inside it; a million is past our 10 000 node budget
const YAML_ALIAS_LIMIT = 1_000_000;
const PATCH_ERRORS = [ConfigError, PatchedConfigInvalid];

function hasCollectionKey(text: string): boolean {
  let found = false;
  for (const doc of parseAllDocuments(text)) {
    visit(doc, {
      Pair(_, pair) {
        if (isCollection(pair.key)) found = true;
      },
    });
  }
  return found;
}

/** Reads everything a node reads from a config: the v1alpha1 document, its problems and its PKI fields. */
function readAll(text: string): MachineConfig | undefined {
  const config = cleanOutcome(() => parseMachineConfig(text), CONFIG_ERRORS, describeInput(text));
  if (!config) return undefined;
  const problems = machineConfigProblems(config);
  expect(problems).to.be.an('array');
  const pki = cleanOutcome(() => config.pki(), CONFIG_ERRORS, `pki() of ${describeInput(text)}`);
  if (problems.length === 0) expect(pki, `a config without problems has readable PKI fields: ${describeInput(text)}`).to.not.equal(undefined);
  // what we would store reads back the same (compared as plain data, which a collection used as a key has no stable
  // form in: yaml names such a key by its layout, and the layout it writes is not the one it read)
  if (!hasCollectionKey(text)) expect(parseMachineConfig(config.toYaml()).toJS()).to.deep.equal(config.toJS());
  return config;
}

describe('fuzz: machine config and patches', function () {
  this.timeout(120_000);
  const fixtures = ['base-controlplane.yaml', 'base-worker.yaml', 'overrides-controlplane.yaml'].map((f) => readFixture('machineconfig', f));
  const trees = fixtures.map((text) => parseMachineConfig(text).toJS()[0]);
  const bundle = fixtureBundle();
  const pems = [bundle.os.crt, bundle.os.key, bundle.k8s.crt, bundle.etcd.key];
  const base = parseMachineConfig(fixtures[0]);
  const values = fieldValue(pems);

  it('refuses a strategic patch with a !!binary or !!timestamp value or key, the config untouched (fuzz finding: a plain Error from the YAML writer)', () => {
    for (const text of ['machine:\n  x: !!binary aGVsbG8=\n', 'x: !!timestamp 2001-12-14\n', '!!binary aGVsbG8= : x\n']) {
      const before = base.toYaml();
      expect(() => applyPatches(base, parsePatches([text])), text).to.throw(PatchError, /patch line \d: YAML tag !!(binary|timestamp) is not supported in patches/);
      expect(base.toYaml()).to.equal(before);
    }
  });

  it('reads a mutated machine config file or refuses it with a ConfigError', () => {
    fuzz('machine config: text mutations', fc.property(fc.constantFrom(...fixtures).chain(textMutation), (text) => void readAll(text)), 80);
  });

  it('reads arbitrary YAML-ish text or refuses it with a ConfigError', () => {
    fuzz('machine config: YAML-ish text', fc.property(yamlishString, (text) => void readAll(`version: v1alpha1\n${text}`)), 150);
  });

  it('validates a config with any value in any PKI field: every problem is collected, nothing throws', () => {
    const input = fc
      .tuple(fc.constantFrom(...trees), fc.constantFrom(...FIELD_PATHS), values)
      .map(([tree, path, value]) => stringify(setIn(tree, path, value)));
    fuzz('machine config: field values', fc.property(input, (text) => void readAll(text)), 80);
  });

  it('reads a config with anchors, aliases or an alias bomb in its PKI fields, or refuses it naming the file', () => {
    const input = fc.constantFrom(...trees).chain((tree) => aliasedTreeText(tree, FIELD_PATHS));
    fuzz('machine config: aliases', fc.property(input, (text) => void readAll(text)), 60);
  });

  it('resolves the aliases of a patch to the values YAML gives them, or refuses a bomb or a value that contains itself', () => {
    const text = fc.oneof(aliasedStrategicPatch, aliasedValue.map((v) => `{machine: ${v}}`));
    fuzz('patch: aliases against the yaml library', fc.property(text, expectAliasesAsYaml), 150);
  });

  it('applies a fuzzed strategic merge patch or refuses it, leaving the config as it was', () => {
    fuzz('patch: strategic merge', fc.property(fc.array(strategicPatchText(values), { minLength: 1, maxLength: 2 }), (texts) => expectPatchOutcome(base, texts)), 150);
  });

  it('applies a fuzzed RFC 6902 patch or refuses it, leaving the config as it was', () => {
    fuzz('patch: RFC 6902', fc.property(fc.array(jsonPatchText(values), { minLength: 1, maxLength: 2 }), (texts) => expectPatchOutcome(base, texts)), 150);
  });

  it('loads --patch arguments (inline, @file, bare names) or refuses them with a PatchError naming the argument', () => {
    const files = new Map([['p.yaml', readFixture('patches', 'strategic.yaml')]]);
    const readFile = (path: string) => {
      const text = files.get(path);
      if (text !== undefined) return text;
      throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
    };
    const arg = fc.oneof(fc.constantFrom('@p.yaml', 'p.yaml', '@', '@missing.yaml', '[]', '{}', '@@p.yaml', ' *!', '*a', '&a'), yamlishString, fc.string({ maxLength: 12 }), aliasedValue, aliasedStrategicPatch);
    fuzz('patch: --patch arguments', fc.property(fc.array(arg, { maxLength: 3 }), (args) => void cleanOutcome(() => loadPatches(args, readFile), PATCH_ERRORS, describeInput(args.join(' | ')))));
  });
});

/**
 * The judge for aliases is the yaml library's own reading of the text: what resolveAliases leaves must be the same
 * data. Where yaml reads a structure that contains itself, or refuses (no anchor, too many aliases), the patch must be
 * refused too, with a PatchError; one that yaml reads may be refused only for expanding past the alias budget.
 */
function expectAliasesAsYaml(text: string): void {
  const input = describeInput(text);
  const { judge, expected } = yamlReading(text);
  let patch: MachineConfigPatch | undefined;
  let refusal: unknown;
  try {
    patch = parsePatch(text, 'p.yaml');
  } catch (err) {
    refusal = err;
  }
  if (judge === 'unjudged') {
    if (!patch) expectOurError(refusal, [PatchError], input);
    return;
  }
  if (patch) {
    expect(judge, `${input}: accepted although yaml finds it ${judge}`).to.equal('read');
    if (patch.kind === 'strategic') expect(patch.documents.map((d) => d.toJS() as unknown), input).to.deep.equal(expected);
    return;
  }
  expectOurError(refusal, [PatchError], input);
  if (judge !== 'read') return;
  // yaml's limit counts aliases, ours the nodes they add: a refusal of what yaml reads is for size, and only when big
  expect((refusal as Error).message, input).to.include(`expand to more than ${MAX_ALIAS_EXPANSION} nodes`);
  expect(countValues(expected), input).to.be.above(MAX_ALIAS_EXPANSION);
}

/** yaml's reading of `text`: its data, or whether it is a structure that contains itself, or refused. */
function yamlReading(text: string): { judge: 'read' | 'circular' | 'refused' | 'unjudged'; expected: unknown[] } {
  const docs = parseAllDocuments(text, { prettyErrors: false });
  if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) return { judge: 'refused', expected: [] };
  // a key may alias the map it is in: yaml then writes that key as text instead of looping, and is no judge of it
  if (docs.some((d) => containsItself(d as Document))) return { judge: 'circular', expected: [] };
  // plain data has no collection keys: yaml names an alias key by its source (`*b`), a copy of the value by its text
  if (docs.some((d) => hasAliasKeyToCollection(d as Document))) return { judge: 'unjudged', expected: [] };
  try {
    // yaml's own default (100 aliases) is far below our budget: its limit here is only a guard against bombs
    const expected = docs.map((d) => d.toJS({ maxAliasCount: YAML_ALIAS_LIMIT }) as unknown);
    JSON.stringify(expected);
    return { judge: 'read', expected };
  } catch (err) {
    return { judge: err instanceof TypeError ? 'circular' : 'refused', expected: [] };
  }
}

/** Whether an alias of `doc` lies inside the very value it names (found with yaml's own resolution). */
function containsItself(doc: Document): boolean {
  let found = false;
  visit(doc, {
    Alias(_, alias) {
      const target = alias.resolve(doc);
      if (target) visit(target, { Alias: (__, inner) => (inner === alias ? ((found = true), visit.BREAK) : undefined) });
      return found ? visit.BREAK : undefined;
    },
  });
  return found;
}

function hasAliasKeyToCollection(doc: Document): boolean {
  let found = false;
  visit(doc, {
    Pair(_, pair) {
      if (isAlias(pair.key) && isCollection(pair.key.resolve(doc))) found = true;
    },
  });
  return found;
}

/** Values in plain data, map keys included: the measure resolveAliases puts its budget in. */
function countValues(value: unknown): number {
  if (Array.isArray(value)) return 1 + value.reduce<number>((n, v) => n + countValues(v), 0);
  if (typeof value === 'object' && value !== null) return 1 + Object.values(value).reduce<number>((n, v) => n + 1 + countValues(v), 0);
  return 1;
}

/** The patch applies to a valid config, or throws one of our errors; either way `base` is untouched. */
function expectPatchOutcome(base: MachineConfig, texts: string[]): void {
  const before = base.toYaml();
  const input = describeInput(texts.join('\n---8<---\n'));
  const result = cleanOutcome(() => applyPatches(base, parsePatches(texts)), PATCH_ERRORS, input);
  if (result) expect(machineConfigProblems(result.config), input).to.deep.equal([]);
  expect(base.toYaml(), `the config given to applyPatches changed: ${input}`).to.equal(before);
}
