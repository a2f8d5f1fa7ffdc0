// Fuzzes the other files a user hands trustctl: the secrets bundle (Talos YAML and PascalCase JSON), the talosconfig
// and a kubeadm PKI directory. A ConfigError/MultiError naming the field or file, or a valid result.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import {
  ConfigError, MultiError, contextCredentials, formatSecretsBundleJson, formatTalosconfig, parseSecretsBundle, parseTalosconfig,
  readKubernetesPki, selectContext, validateSecretsBundle,
} from '../../src/config/index.js';
import { readFixture } from '../config/support/talos-fixtures.js';
import { fixtureBundle, kubernetesPki } from '../pki/fixtures.js';
import { cleanOutcome, cleanOutcomeAsync, describeInput } from './clean-outcome.js';
import { fuzz, fuzzAsync } from './fuzz-settings.js';
import { aliasedTreeText } from './alias-inputs.js';
import { fieldValue, setIn, textMutation, yamlishString } from './text-inputs.js';

const ERRORS = [ConfigError, MultiError];

const BUNDLE_PATHS = [
  ['cluster'], ['cluster', 'id'], ['secrets', 'bootstraptoken'], ['secrets', 'aescbcencryptionsecret'], ['trustdinfo'], ['trustdinfo', 'token'],
  ['certs'], ['certs', 'os'], ['certs', 'os', 'crt'], ['certs', 'etcd', 'key'], ['certs', 'k8s'], ['certs', 'k8saggregator', 'crt'], ['certs', 'k8sserviceaccount', 'key'],
];
const TALOSCONFIG_PATHS = [['context'], ['contexts'], ['contexts', 'demo'], ['contexts', 'demo', 'endpoints'], ['contexts', 'demo', 'endpoints', 0], ['contexts', 'demo', 'target'], ['contexts', 'demo', 'ca'], ['contexts', 'demo', 'key'], ['contexts', 'x', 'nodes']];

function readBundle(text: string): void {
  const input = describeInput(text);
  const draft = cleanOutcome(() => parseSecretsBundle(text), ERRORS, input);
  if (!draft) return;
  const bundle = cleanOutcome(() => validateSecretsBundle(draft), ERRORS, input);
  if (!bundle) return;
  // a bundle that validates writes out and reads back as itself (the JSON form has no header comment)
  const expected = { ...bundle };
  delete expected.comment;
  expect(validateSecretsBundle(parseSecretsBundle(formatSecretsBundleJson(bundle)))).to.deep.equal(expected);
}

function readTalosconfig(text: string): void {
  const input = describeInput(text);
  const config = cleanOutcome(() => parseTalosconfig(text), ERRORS, input);
  if (!config) return;
  for (const name of Object.keys(config.contexts)) cleanOutcome(() => contextCredentials(name, selectContext(config, name).context), ERRORS, input);
  cleanOutcome(() => selectContext(config), ERRORS, input);
  expect(parseTalosconfig(formatTalosconfig(config))).to.deep.equal(config);
}

describe('fuzz: secrets bundle, talosconfig and kubeadm PKI directory', function () {
  this.timeout(120_000);
  const bundleYaml = readFixture('secrets', 'secrets.yaml');
  const bundleTree: unknown = parse(bundleYaml);
  const talos = fixtureBundle();
  const values = fieldValue([talos.os.crt, talos.os.key, talos.k8s.crt]);
  const talosconfig = formatTalosconfig({
    context: 'demo',
    contexts: { demo: { endpoints: ['10.5.0.2'], nodes: ['10.5.0.3'], ca: Buffer.from(talos.os.crt).toString('base64'), crt: Buffer.from(talos.os.crt).toString('base64'), key: Buffer.from(talos.os.key).toString('base64') } },
  });

  it('reads a mutated secrets bundle (YAML or JSON) or refuses it with a ConfigError or MultiError', () => {
    const json = formatSecretsBundleJson(validateSecretsBundle(parseSecretsBundle(bundleYaml)));
    fuzz('secrets bundle: text mutations', fc.property(fc.constantFrom(bundleYaml, json).chain(textMutation), readBundle), 100);
  });

  it('reads a secrets bundle with any value in any field, or refuses it naming the field', () => {
    const input = fc.tuple(fc.constantFrom(...BUNDLE_PATHS), values, fc.boolean()).map(([path, value, asJson]) => {
      const tree = setIn(bundleTree, path, value);
      return asJson ? JSON.stringify(tree) : stringify(tree);
    });
    fuzz('secrets bundle: field values', fc.property(fc.oneof(input, yamlishString, aliasedTreeText(bundleTree, BUNDLE_PATHS)), readBundle), 100);
  });

  it('reads a talosconfig with any value in any field, or refuses it naming the field', () => {
    const tree: unknown = parse(talosconfig);
    const input = fc.oneof(
      fc.tuple(fc.constantFrom(...TALOSCONFIG_PATHS), values).map(([path, value]) => stringify(setIn(tree, path, value))),
      textMutation(talosconfig),
      yamlishString,
      aliasedTreeText(tree, TALOSCONFIG_PATHS),
    );
    fuzz('talosconfig', fc.property(input, readTalosconfig), 150);
  });

  it('imports a kubeadm PKI directory with mutated or missing files, or refuses it naming the file', async () => {
    const files = ['ca.crt', 'ca.key', 'etcd/ca.crt', 'etcd/ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key'];
    const originals = new Map(files.map((f) => [f, kubernetesPki(f)]));
    const change = fc.tuple(fc.constantFrom(...files), fc.option(fc.constantFrom(...originals.values()).chain(textMutation), { nil: undefined }));
    const root = mkdtempSync(join(tmpdir(), 'fuzz-kubeadm-'));
    let n = 0;
    try {
      await fuzzAsync(
        'kubeadm PKI directory',
        fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 2 }), async (changes) => {
          const dir = join(root, String(n++));
          mkdirSync(join(dir, 'etcd'), { recursive: true });
          for (const f of files) writeFileSync(join(dir, f), originals.get(f)!);
          for (const [f, text] of changes) {
            if (text === undefined) rmSync(join(dir, f), { force: true });
            else writeFileSync(join(dir, f), text);
          }
          const read = await cleanOutcomeAsync(() => readKubernetesPki(dir, new Date()), ERRORS, describeInput(JSON.stringify(changes)));
          if (read) expect(read.k8s.crt).to.include('-----BEGIN CERTIFICATE-----');
        }),
        40,
        false,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
