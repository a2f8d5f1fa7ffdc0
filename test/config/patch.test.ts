import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MULTI_DOCUMENT_REFUSAL,
  PatchError,
  PatchedConfigInvalid,
  applyPatches,
  loadPatches,
  parseMachineConfig,
  parsePatch,
  parsePatches,
} from '../../src/config/index.js';
import type { MachineConfig } from '../../src/config/index.js';
import { readFixture } from './support/talos-fixtures.js';
import { thrown } from '../support/caught.js';

/** A real Talos control-plane config: v1alpha1 plus a HostnameConfig document. */
const multiDoc = () => parseMachineConfig(readFixture('machineconfig', 'base-controlplane.yaml'));
/** The same config with only its v1alpha1 document, which RFC 6902 patches accept. */
const singleDoc = () => parseMachineConfig(readFixture('machineconfig', 'base-controlplane.yaml').split('\n---\n')[0]);

const apply = (config: MachineConfig, ...texts: string[]) => applyPatches(config, texts.map((t, i) => parsePatch(t, `p${i + 1}.yaml`)));


describe('config patches: strategic merge rules', () => {
  it('accumulates certSANs across patches instead of replacing them', () => {
    const { config, changed } = apply(multiDoc(), 'machine:\n  certSANs: [10.0.0.5]\n', 'machine:\n  certSANs: [node.example.com]\n');
    expect(changed).to.equal(true);
    expect(config.certSANs).to.deep.equal(['10.0.0.5', 'node.example.com']);
  });

  it('applies an explicit false but leaves a value alone for an empty string', () => {
    const before = multiDoc();
    expect(before.raw(['machine', 'features', 'diskQuotaSupport'])).to.equal(true);
    const { config } = apply(before, 'machine:\n  token: ""\n  features:\n    diskQuotaSupport: false\n');
    expect(config.raw(['machine', 'features', 'diskQuotaSupport'])).to.equal(false);
    expect(config.token).to.equal(before.token);
  });

  it('replaces podSubnets and serviceSubnets (merge:"replace" upstream) rather than appending', () => {
    const { config } = apply(multiDoc(), 'cluster:\n  network:\n    podSubnets: [10.1.0.0/16]\n    serviceSubnets: [10.2.0.0/16]\n');
    expect(config.raw(['cluster', 'network', 'podSubnets'])).to.deep.equal(['10.1.0.0/16']);
    expect(config.raw(['cluster', 'network', 'serviceSubnets'])).to.deep.equal(['10.2.0.0/16']);
  });

  it('deletes a key with $patch: delete, and says which patch line names a key that is not there', () => {
    const { config } = apply(multiDoc(), 'machine:\n  nodeLabels:\n    $patch: delete\n');
    expect(config.has(['machine', 'nodeLabels'])).to.equal(false);
    const err = thrown(() => apply(config, 'machine:\n  nodeLabels:\n    $patch: delete\n'));
    expect(err).to.be.instanceOf(PatchError);
    expect(err.message).to.equal('p1.yaml line 3: $patch: delete machine.nodeLabels: not in the config, so there is nothing to delete');
  });

  it('deletes a key whose value is a list ($patch: delete is a directive, not a map where the list belongs), as upstream does', () => {
    const withSans = apply(multiDoc(), 'machine:\n  certSANs: [10.0.0.5]\ncluster:\n  apiServer:\n    certSANs: [api.example.com]\n').config;
    const { config, changed } = apply(withSans, 'machine:\n  certSANs:\n    $patch: delete\ncluster:\n  apiServer:\n    certSANs:\n      $patch: delete\n');
    expect(changed).to.equal(true);
    expect(config.has(['machine', 'certSANs'])).to.equal(false);
    expect(config.has(['cluster', 'apiServer', 'certSANs'])).to.equal(false);
    expect(config.has(['machine', 'type'])).to.equal(true);
    // a real map where a list belongs is still refused, at the patch's own line
    const err = thrown(() => apply(withSans, 'machine:\n  certSANs:\n    host: a.example.com\n'));
    expect(err).to.be.instanceOf(PatchError);
    expect(err.message).to.equal('p1.yaml line 3: /machine/certSANs: expected a list, got a map');
  });

  it('deletes a list item matched by the first other key of the item', () => {
    const base = apply(multiDoc(), 'machine:\n  network:\n    interfaces:\n      - interface: eth0\n        dhcp: true\n      - interface: eth1\n        dhcp: true\n').config;
    const { config } = apply(base, 'machine:\n  network:\n    interfaces:\n      - interface: eth0\n        $patch: delete\n');
    expect(config.raw(['machine', 'network', 'interfaces'])).to.deep.equal([{ interface: 'eth1', dhcp: true }]);
  });

  it('merges network interfaces by name and appends new ones', () => {
    const base = apply(multiDoc(), 'machine:\n  network:\n    interfaces:\n      - interface: eth0\n        dhcp: true\n').config;
    const { config } = apply(base, 'machine:\n  network:\n    interfaces:\n      - interface: eth0\n        mtu: 9000\n      - interface: eth1\n        dhcp: false\n');
    expect(config.raw(['machine', 'network', 'interfaces'])).to.deep.equal([
      { interface: 'eth0', dhcp: true, mtu: 9000 },
      { interface: 'eth1', dhcp: false },
    ]);
  });

  it('deletes a whole document with $patch: delete at its top, and refuses to delete the v1alpha1 document', () => {
    const { config } = apply(multiDoc(), 'apiVersion: v1alpha1\nkind: HostnameConfig\n$patch: delete\n');
    expect(config.kinds).to.deep.equal(['v1alpha1']);
    const err = thrown(() => apply(multiDoc(), 'version: v1alpha1\n$patch: delete\n'));
    expect(err.message).to.match(/^p1\.yaml line 1: the v1alpha1 document cannot be deleted/);
  });

  it('merges a document of another kind into the one with the same kind, and appends a new kind', () => {
    const { config } = apply(multiDoc(), 'apiVersion: v1alpha1\nkind: HostnameConfig\nauto: off\nhostname: node-1\n');
    expect(config.toJS()[1]).to.deep.equal({ apiVersion: 'v1alpha1', kind: 'HostnameConfig', auto: 'off', hostname: 'node-1' });
    const added = apply(multiDoc(), 'apiVersion: v1alpha1\nkind: RegistryMirrorConfig\nname: ghcr.io\nendpoints:\n  - url: https://mirror.example\n').config;
    expect(added.kinds).to.deep.equal(['v1alpha1', 'HostnameConfig', 'RegistryMirrorConfig']);
  });

  it('keeps the comments of the config it patches', () => {
    const text = readFixture('machineconfig', 'base-controlplane.yaml').replace('    certSANs: []', '    # names clients reach apid by\n    certSANs: []');
    const { config } = apply(parseMachineConfig(text), 'machine:\n  certSANs: [10.0.0.5]\n');
    expect(config.toYaml()).to.contain('# names clients reach apid by');
    expect(config.certSANs).to.deep.equal(['10.0.0.5']);
  });

  it('reports no change for a patch that restates what the config holds', () => {
    const before = multiDoc();
    expect(apply(before, `machine:\n  type: ${before.type}\n`).changed).to.equal(false);
  });
});

describe('config patches: RFC 6902', () => {
  it('applies operations in order (JSON array or YAML list)', () => {
    const { config } = apply(
      singleDoc(),
      '[{"op": "add", "path": "/machine/certSANs/-", "value": "10.0.0.5"}]',
      '- op: add\n  path: /machine/certSANs/0\n  value: api.example.com\n- op: test\n  path: /machine/certSANs/1\n  value: 10.0.0.5\n',
    );
    expect(config.certSANs).to.deep.equal(['api.example.com', '10.0.0.5']);
  });

  it('is refused on a multi-document config with upstream\'s message', () => {
    const err = thrown(() => apply(multiDoc(), '[{"op": "add", "path": "/machine/certSANs/-", "value": "10.0.0.5"}]'));
    expect(err.message).to.equal(MULTI_DOCUMENT_REFUSAL);
    expect(err.message).to.equal('JSON6902 patches are not supported for multi-document machine configuration');
  });

  it('names the patch, the operation and the path that was not found', () => {
    const err = thrown(() => apply(singleDoc(), '- op: add\n  path: /machine/certSANs/-\n  value: 10.0.0.5\n- op: replace\n  path: /machine/foo\n  value: 1\n'));
    expect(err.message).to.equal('p1.yaml: op 2 (replace /machine/foo): path not found');
  });

  it('says where a path breaks off and refuses an out-of-range list index', () => {
    expect(thrown(() => apply(singleDoc(), '[{"op": "add", "path": "/machine/nope/x", "value": 1}]')).message).to.equal(
      'p1.yaml: op 1 (add /machine/nope/x): path not found (/machine/nope does not exist)',
    );
    expect(thrown(() => apply(singleDoc(), '[{"op": "add", "path": "/machine/certSANs/5", "value": "a"}]')).message).to.match(/out of range: the list has 0 items/);
  });

  it('names the operation when it gives a PKI field the wrong type', () => {
    const err = thrown(() => apply(singleDoc(), '[{"op": "add", "path": "/machine/certSANs/-", "value": {"ip": "10.0.0.5"}}]'));
    expect(err.message).to.equal('p1.yaml: op 1 (add /machine/certSANs/-): /machine/certSANs/0: expected a string, got a map');
  });

  it('refuses an operation it does not know, naming it', () => {
    expect(thrown(() => parsePatch('[{"op": "merge", "path": "/machine"}]', 'p.json')).message).to.equal(
      'p.json: op 1 (line 1): "op" must be one of add, remove, replace, move, copy, test, got "merge"',
    );
  });
});

describe('config patches: errors and validation', () => {
  it('points at the patch line of a PKI field with the wrong type', () => {
    const err = thrown(() => applyPatches(multiDoc(), loadPatches(['machine:\n  certSANs:\n    - ip: 10.0.0.5\n'])));
    expect(err).to.be.instanceOf(PatchError);
    expect(err.message).to.equal('patch line 3: /machine/certSANs/0: expected a string, got a map');
  });

  it('says what the config has when the patch gives a map where the config has a list', () => {
    const err = thrown(() => apply(multiDoc(), 'cluster:\n  apiServer:\n    admissionControl:\n      name: PodSecurity\n'));
    expect(err.message).to.equal('p1.yaml line 4: /cluster/apiServer/admissionControl: expected a list (as in the config), got a map');
  });

  it('validates the patched config and lists every problem', () => {
    const err = thrown(() => apply(multiDoc(), 'machine:\n  certSANs: [10.0.0.300]\n  type: gateway\n'));
    expect(err).to.be.instanceOf(PatchedConfigInvalid);
    expect((err as PatchedConfigInvalid).problems).to.have.length(2);
    expect(err.message).to.contain('\t* p1.yaml: machine.type: expected one of init, controlplane, worker, got "gateway"');
    expect(err.message).to.contain('\t* p1.yaml: machine.certSANs[0]');
    expect(err.message).to.contain('nothing was stored');
  });

  it('names the patch that brought each problem in', () => {
    const err = thrown(() => apply(multiDoc(), 'machine:\n  certSANs: [10.0.0.5]\n', 'machine:\n  certSANs: [bad_name!]\n'));
    expect((err as PatchedConfigInvalid).problems).to.have.length(1);
    expect((err as PatchedConfigInvalid).problems[0]).to.match(/^p2\.yaml: machine\.certSANs\[1\]: /);
  });

  it('reports invalid YAML with the patch line', () => {
    expect(thrown(() => parsePatch('machine:\n  certSANs: [a\n', 'p.yaml')).message).to.match(/^p\.yaml line \d+: invalid YAML/);
  });
});

describe('config patches: loading', () => {
  it('reads @file, takes inline text as the patch, and names a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'patch-load-'));
    try {
      const file = join(dir, 'p.yaml');
      writeFileSync(file, 'machine:\n  certSANs: [10.0.0.5]\n');
      const patches = loadPatches([`@${file}`, '[{"op": "add", "path": "/machine/certSANs/-", "value": "x.example"}]']);
      expect(patches.map((p) => [p.kind, p.source])).to.deep.equal([
        ['strategic', file],
        ['json6902', 'patch 2'],
      ]);
      expect(thrown(() => loadPatches([`@${join(dir, 'missing.yaml')}`])).message).to.equal(
        `patch file "${join(dir, 'missing.yaml')}": does not exist; pass --patch @FILE with an existing file, or the patch text inline`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('config patches: texts from an API', () => {
  it('takes every text as a patch, never as a file name', () => {
    const patches = parsePatches(['machine:\n  certSANs: [10.0.0.5]\n', '[{"op": "test", "path": "/version", "value": "v1alpha1"}]']);
    expect(patches.map((p) => [p.kind, p.source])).to.deep.equal([
      ['strategic', 'patch 1'],
      ['json6902', 'patch 2'],
    ]);
    expect(thrown(() => parsePatches(['/etc/passwd'])).message).to.equal(
      'patch line 1: expected a map (a partial machine config) or a list of RFC 6902 operations, got a string',
    );
  });
});
