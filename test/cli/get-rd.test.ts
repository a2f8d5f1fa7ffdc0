import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { resourceDefinitions } from '../../src/cli/resource-definitions.js';
import { nodeResourceRegistry } from '../../src/server/node.js';
import { Sandbox } from '../config/support/run-trustctl.js';

describe('trustctl get rd (resourcedefinitions)', () => {
  let box: Sandbox;
  beforeEach(() => (box = new Sandbox()));
  afterEach(() => box.remove());

  it('lists every registered type (and rd itself) with its aliases, default namespace and sensitivity', () => {
    const registry = nodeResourceRegistry();
    const listed = resourceDefinitions(registry);
    expect(listed.map((r) => r.spec.type)).to.have.members([...registry.all().map((d) => d.type), 'ResourceDefinitions']);
    for (const def of registry.all()) {
      const r = listed.find((l) => l.metadata.id === def.type)!;
      expect(r.spec).to.deep.equal({ type: def.type, aliases: def.aliases, defaultNamespace: def.namespace, sensitivity: def.sensitive ? 'sensitive' : 'non-sensitive' });
    }
    expect(listed.find((r) => r.metadata.id === 'MachineConfigs')!.spec.sensitivity).to.equal('sensitive');
    expect(listed.find((r) => r.metadata.id === 'CertificateStatuses')!.spec.sensitivity).to.equal('non-sensitive');
  });

  it('prints a table with ALIASES, DEFAULT NAMESPACE and SENSITIVE columns without a store or a talosconfig, under both names', async () => {
    for (const name of ['rd', 'resourcedefinitions']) {
      const r = await box.run(['get', name]);
      expect(r.code, r.stderr).to.equal(0);
      const [header, ...rows] = r.stdout.trimEnd().split('\n');
      expect(header.split(/\s{2,}/)).to.deep.equal(['NAMESPACE', 'TYPE', 'ID', 'VERSION', 'ALIASES', 'DEFAULT NAMESPACE', 'SENSITIVE']);
      expect(rows.map((row) => row.split(/\s{2,}/))).to.deep.include(['meta', 'ResourceDefinitions', 'MachineConfigs', '1', 'machineconfig,machineconfigs,mc,mcs', 'config', 'yes']);
      expect(rows).to.have.length(nodeResourceRegistry().all().length + 1);
    }
    expect(box.files()).to.deep.equal([]);
    const remote = await box.run(['-n', '10.5.0.2', 'get', 'rd']);
    expect(remote.code, remote.stderr).to.equal(0);
    expect(remote.stderr).to.equal('note: get rd lists the types built into this trustctl; no node is asked\n');
  });

  it('shows one definition by any of its aliases (-o yaml), and says how to find the names when there is none', async () => {
    const r = await box.run(['get', 'rd', 'cs', '-o', 'yaml']);
    expect(r.code, r.stderr).to.equal(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { spec: unknown });
    expect(docs.map((d) => d.spec)).to.deep.equal([{ type: 'CertificateStatuses', aliases: ['certificatestatus', 'certificatestatuses', 'cs', 'certstatus'], defaultNamespace: 'runtime', sensitivity: 'non-sensitive' }]);
    const missing = await box.run(['get', 'rd', 'nope']);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.equal('error: resource definition "nope" not found: `trustctl get rd` lists every type and its aliases\n');
  });
});
