import { expect } from 'chai';
import {
  ConfigError,
  MAX_PATCH_OPERATIONS,
  PatchError,
  PatchTooLarge,
  applyPatches,
  parseMachineConfig,
  parsePatch,
  parseSecretsBundle,
  parseTalosconfig,
} from '../../src/config/index.js';
import type { MachineConfig } from '../../src/config/index.js';
import { readFixture } from './support/talos-fixtures.js';
import { thrown } from '../support/caught.js';

const multiDoc = () => parseMachineConfig(readFixture('machineconfig', 'base-controlplane.yaml'));
const singleDoc = () => parseMachineConfig(readFixture('machineconfig', 'base-controlplane.yaml').split('\n---\n')[0]);
const apply = (config: MachineConfig, text: string) => applyPatches(config, [parsePatch(text, 'p.yaml')]);

/** Six levels of ten aliases each: a million leaves from a few hundred bytes. */
const BOMB = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdef'.split('').map((l, i) => `${l}: &${l} [${Array(10).fill(`*${'abcdef'[i]}`).join(', ')}]`)];
const indented = (lines: string[], by: number) => lines.map((l) => ' '.repeat(by) + l).join('\n');


describe('hostile patches', () => {
  it('refuses RFC 6902 copies of a subtree into itself as they run, before the document doubles past the bound', () => {
    const config = singleDoc();
    const before = config.toYaml();
    const ops = Array.from({ length: 40 }, (_, i) => ({ op: 'copy', from: '/machine', path: `/machine/c${i}` }));
    const err = thrown(() => apply(config, JSON.stringify(ops)));
    expect(err).to.be.instanceOf(PatchTooLarge);
    const stoppedAt = /^p\.yaml: op (\d+) \(copy \/machine\/c\d+\): the patched document would be about \d+ KiB, more than the 1024 KiB allowed/.exec(err.message);
    expect(stoppedAt, err.message).to.not.equal(null);
    // each copy doubles the document: refused at the copy that crosses 1 MiB, long before the 40th (2^40 times the config)
    expect(Number(stoppedAt![1])).to.be.below(20);
    expect(config.toYaml()).to.equal(before);
  });

  it(`refuses a patch of more than ${MAX_PATCH_OPERATIONS} operations before applying any`, () => {
    const ops = Array.from({ length: MAX_PATCH_OPERATIONS + 1 }, () => ({ op: 'test', path: '/machine/type', value: 'controlplane' }));
    const err = thrown(() => apply(singleDoc(), JSON.stringify(ops)));
    expect(err).to.be.instanceOf(PatchTooLarge);
    expect(err.message).to.equal(`p.yaml: has ${MAX_PATCH_OPERATIONS + 1} operations, more than the ${MAX_PATCH_OPERATIONS} allowed in one patch; split it into several patches`);
  });

  it('still applies a large legitimate patch (a thousand adds, replaces and removes keep the size account right)', () => {
    const ops = Array.from({ length: 250 }, (_, i) => [
      { op: 'add', path: '/machine/certSANs/-', value: `a${i}.example.com` },
      { op: 'replace', path: '/machine/certSANs/0', value: `r${i}.example.com` },
      { op: 'add', path: '/machine/certSANs/-', value: `b${i}.example.com` },
      { op: 'remove', path: '/machine/certSANs/0' },
    ]).flat();
    const before = singleDoc().certSANs.length;
    const { config } = apply(singleDoc(), JSON.stringify(ops));
    expect(config.certSANs).to.have.length(before + 250);
    // 20 x 200 KB written to one field is 200 KB of document, not 4 MB: overwritten values leave the account
    const big = 'x'.repeat(200_000);
    const rewrites = [{ op: 'add', path: '/machine/big', value: big }, ...Array.from({ length: 19 }, () => ({ op: 'replace', path: '/machine/big', value: big }))];
    expect(apply(singleDoc(), JSON.stringify(rewrites)).config.raw(['machine', 'big'])).to.equal(big);
    const moves = [{ op: 'add', path: '/machine/big', value: big }, ...Array.from({ length: 19 }, (_, i) => ({ op: 'move', from: i ? `/machine/m${i - 1}` : '/machine/big', path: `/machine/m${i}` }))];
    expect(apply(singleDoc(), JSON.stringify(moves)).config.raw(['machine', 'm18'])).to.equal(big);
  });

  it('stores the value an alias in an RFC 6902 value names, never {source: NAME}', () => {
    const { config } = apply(singleDoc(), '- op: add\n  path: /machine/extra\n  value: &v {k: v}\n- op: add\n  path: /machine/again\n  value: *v\n');
    expect(config.raw(['machine', 'again'])).to.deep.equal({ k: 'v' });
    expect(config.toYaml()).to.not.match(/source:|&v|\*v/);
  });

  it('resolves aliases in a strategic merge patch, leaving no anchor or alias in the stored config', () => {
    const { config } = apply(multiDoc(), 'machine:\n  certSANs: &s [a.example.com]\ncluster:\n  apiServer:\n    certSANs: *s\n');
    expect(config.apiServerCertSANs).to.include('a.example.com');
    expect(config.toYaml()).to.not.match(/&s|\*s/);
  });

  it('refuses an alias bomb in a patch naming the patch, quickly', () => {
    for (const text of [`machine:\n  x:\n${indented(BOMB, 4)}\n`, `- op: add\n  path: /machine/x\n  value:\n${indented(BOMB, 4)}\n`]) {
      const err = thrown(() => apply(singleDoc(), text));
      expect(err).to.be.instanceOf(PatchError);
      expect(err.message).to.equal('p.yaml: YAML aliases expand to more than 10000 nodes (an "alias bomb"?); write the values out instead of aliasing them');
    }
  });

  it('gives an alias the last anchor of its name before it, not one inside a copy an earlier alias made (found re-admitting aliases to the fuzz suite)', () => {
    // YAML (and the yaml library): *y is b's 1; the copy of x made for c carries no anchor of its own
    const { config } = apply(singleDoc(), 'machine:\n  a: &x {k: &y 3}\n  b: &y 1\n  c: *x\n  d: *y\n');
    expect(config.raw(['machine', 'c'])).to.deep.equal({ k: 3 });
    expect(config.raw(['machine', 'd'])).to.equal(1);
    expect(config.toYaml()).to.not.match(/&[xy]|\*[xy]/);
  });

  it('refuses an alias inside the value its anchor names with a PatchError, the config untouched (fuzz finding: a RangeError, "Maximum call stack size exceeded")', () => {
    for (const text of ['machine:\n  x: &a [*a]\n', '&a {machine: {x: *a}}\n', '- op: add\n  path: /machine/x\n  value: &a {k: [1, *a]}\n']) {
      const config = singleDoc();
      const before = config.toYaml();
      const err = thrown(() => apply(config, text));
      expect(err, text).to.be.instanceOf(PatchError);
      expect(err.message).to.equal('p.yaml: the alias *a is inside the value &a names, which would contain itself for ever');
      expect(config.toYaml()).to.equal(before);
    }
  });

  it('resolves thousands of aliases in a large patch in time linear in its size (found re-admitting aliases: each alias walked the whole patch, a 4 MiB patch took minutes)', () => {
    const text = `machine:\n  padding: [${Array(20_000).fill('1').join(', ')}]\n  certSANs: [&a a.example.com, ${Array(9_000).fill('*a').join(', ')}]\n`;
    // about 1 s here; walking the patch per alias took 20 s (no timed assertion: the suite's own timeout is the guard)
    const { config } = apply(singleDoc(), text);
    expect(config.certSANs).to.have.length(9_001);
    expect(new Set(config.certSANs)).to.deep.equal(new Set(['a.example.com']));
  });

  it('names the file when a machine config, secrets bundle or talosconfig is an alias bomb', () => {
    const bomb = `${indented(BOMB, 0)}\n`;
    const config = readFixture('machineconfig', 'base-controlplane.yaml').split('\n---\n')[0] + `\nbomb:\n${indented(BOMB, 4)}\n`;
    const expectBomb = (fn: () => unknown, file: string) => {
      const err = thrown(fn);
      expect(err).to.be.instanceOf(ConfigError);
      expect(err.message).to.equal(`${file}: YAML aliases expand too far (an "alias bomb"?); write the values out instead of aliasing them`);
    };
    expectBomb(() => parseMachineConfig(config, 'cp.yaml'), 'cp.yaml');
    expectBomb(() => parseSecretsBundle(bomb, 'secrets.yaml'), 'secrets.yaml');
    expectBomb(() => parseTalosconfig(bomb, 'talosconfig'), 'talosconfig');
  });

  it('treats __proto__ and constructor keys in patches as data: no TypeError, nothing polluted', () => {
    const strategic = apply(multiDoc(), 'machine:\n  __proto__:\n    polluted: 1\n  constructor: 2\n').config;
    expect(strategic.toYaml()).to.match(/ {4}__proto__:\n {8}polluted: 1\n/);
    const json = apply(singleDoc(), '[{"op": "add", "path": "/machine/__proto__", "value": {"polluted": 1}}, {"op": "add", "path": "/machine/x", "value": {"__proto__": {"polluted": 2}}}]').config;
    expect(json.toYaml()).to.match(/ {4}__proto__:\n {8}polluted: 1\n/);
    expect(Object.hasOwn(json.raw(['machine', 'x']) as object, '__proto__')).to.equal(true);
    expect(({} as { polluted?: unknown }).polluted).to.equal(undefined);
  });
});
