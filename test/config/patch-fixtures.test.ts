import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { parsePatch, patchYaml } from '../../src/config/index.js';
import { fixturePath, readFixture } from './support/talos-fixtures.js';

/**
 * Upstream compares Go structs, whose encoder writes zero values (`type: ""`, `certSANs: []`, `routes: []`) and reads
 * an empty key as absent; ours keeps the YAML as written. Dropping empty values on both sides compares what both mean.
 */
function meaning(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(meaning);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const m = meaning(v);
    const empty = m === null || m === '' || (Array.isArray(m) && m.length === 0) || (typeof m === 'object' && m !== null && Object.keys(m).length === 0);
    if (!empty) out[k] = m;
  }
  return out;
}

const documents = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as unknown);
const patchFile = (...parts: string[]) => parsePatch(readFixture(...parts), parts[parts.length - 1]);

describe('config patches: upstream strategic merge fixtures (left + right = expected)', () => {
  const cases = readdirSync(fixturePath('strategic-merge')).sort();

  it('finds the six upstream cases', () => {
    expect(cases).to.deep.equal(['001', '002', '003', '004', '005', '006']);
  });

  for (const name of cases) {
    it(`merges strategic-merge/${name} to the expected config`, () => {
      const left = readFixture('strategic-merge', name, 'left.yaml');
      const merged = patchYaml(left, [patchFile('strategic-merge', name, 'right.yaml')]);
      const expected = readFixture('strategic-merge', name, 'expected.yaml');
      expect(meaning(documents(merged))).to.deep.equal(meaning(documents(expected)));
    });
  }
});

describe('config patches: upstream apply fixtures', () => {
  const config = () => readFixture('patches', 'apply', 'config.yaml');

  it('applies strategic and JSON patches in order (configpatcher testdata/apply)', () => {
    const names = ['strategic1.yaml', 'jsonpatch1.yaml', 'jsonpatch2.yaml', 'strategic2.yaml', 'strategic3.yaml'];
    const patched = patchYaml(config(), names.map((n) => patchFile('patches', 'apply', n)));
    expect(meaning(documents(patched))).to.deep.equal(meaning(documents(readFixture('patches', 'apply', 'expected.yaml'))));
  });

  it('appends an inline manifest and drops the blank line it starts with (expected_manifests.yaml)', () => {
    const patched = patchYaml(config(), [patchFile('patches', 'apply', 'strategic4.yaml')]);
    const [doc] = documents(patched) as { cluster: { inlineManifests: { contents: string }[] } }[];
    const [expected] = documents(readFixture('patches', 'apply', 'expected_manifests.yaml')) as (typeof doc)[];
    expect(meaning(doc)).to.deep.equal(meaning(expected));
    expect(doc.cluster.inlineManifests[0].contents).to.equal(expected.cluster.inlineManifests[0].contents);
    expect(doc.cluster.inlineManifests[0].contents.startsWith('---\n')).to.equal(true);
  });

  it('reads patch.json and patch.yaml as RFC 6902 operations and strategic.yaml as a strategic merge', () => {
    const json = patchFile('patches', 'patch.json');
    const yaml = patchFile('patches', 'patch.yaml');
    const strategic = patchFile('patches', 'strategic.yaml');
    expect(json.kind).to.equal('json6902');
    expect(json.kind === 'json6902' && json.operations).to.deep.equal([{ op: 'add', path: '/machine/certSANs', value: ['foo.com'] }]);
    expect(yaml.kind === 'json6902' && yaml.operations).to.deep.equal([{ op: 'add', path: '/some/path', value: ['a', 'b', 'c'] }]);
    expect(strategic.kind).to.equal('strategic');
  });

  it('applies patch.json then strategic.yaml to a small config', () => {
    const patched = patchYaml('version: v1alpha1\nmachine:\n  network: {}\n', [patchFile('patches', 'patch.json'), patchFile('patches', 'strategic.yaml')]);
    expect(documents(patched)).to.deep.equal([{ version: 'v1alpha1', machine: { network: { hostname: 'foo.bar' }, certSANs: ['foo.com'] } }]);
  });
});
