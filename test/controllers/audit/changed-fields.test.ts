import { expect } from 'chai';
import { changedFieldPaths } from '../../../src/controllers/audit/changed-fields.js';
import { configChangeDetails } from '../../../src/controllers/audit/config-change-details.js';

describe('audit: changed machine config fields', () => {
  it('names the paths that changed, added or removed, never their values', () => {
    const before = { machine: { token: 'old-secret', certSANs: ['a'], ca: { crt: 'C', key: 'K1' } }, cluster: { name: 'demo' } };
    const after = { machine: { token: 'new-secret', certSANs: ['a', 'b'], ca: { crt: 'C', key: 'K2' } }, cluster: { name: 'demo', id: 'x' } };
    const paths = changedFieldPaths(before, after);
    expect(paths).to.deep.equal(['cluster.id', 'machine.ca.key', 'machine.certSANs', 'machine.token']);
    expect(JSON.stringify(paths)).not.to.match(/secret|K1|K2/);
  });

  it('walks lists of maps by index', () => {
    expect(changedFieldPaths({ l: [{ a: 1 }, { a: 2 }] }, { l: [{ a: 1 }, { a: 3 }] })).to.deep.equal(['l[1].a']);
  });

  it('marks a first config as created without listing every field', () => {
    expect(configChangeDetails('apply-config', undefined, 'version: v1alpha1\nmachine:\n  type: controlplane\n')).to.deep.equal({ via: 'apply-config', created: true, fields: [] });
  });
});
