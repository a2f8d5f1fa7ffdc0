import { expect } from 'chai';
import { ResourceRegistry, defineResource } from '../../src/runtime/resource.js';
import { UnsupportedTypeError, ValidationError } from '../../src/runtime/errors.js';

const Widgets = defineResource<{ size: number }>({
  type: 'Widgets',
  aliases: ['widget', 'widgets', 'w'],
  namespace: 'default',
  sensitive: false,
  printColumns: [{ name: 'SIZE', value: (r) => String(r.spec.size) }],
  validate(spec) {
    const size = (spec as { size?: unknown }).size;
    if (typeof size !== 'number') throw new ValidationError('size', `expected a number, got ${typeof size}`);
    return { size };
  },
});

describe('ResourceRegistry', () => {
  it('resolves a type by its name and by any alias, case-insensitively', () => {
    const registry = new ResourceRegistry([Widgets]);
    expect(registry.resolve('Widgets')).to.equal(Widgets);
    expect(registry.resolve('W')).to.equal(Widgets);
    expect(registry.resolve('widget')).to.equal(Widgets);
  });

  it('refuses an unknown type with the upstream message', () => {
    const registry = new ResourceRegistry([Widgets]);
    expect(() => registry.resolve('Gadgets')).to.throw(UnsupportedTypeError, 'resource type "Gadgets" is not supported');
  });

  it('refuses two definitions that claim the same alias', () => {
    const registry = new ResourceRegistry([Widgets]);
    const Other = defineResource({ ...Widgets, type: 'Wombats', aliases: ['w'] });
    expect(() => registry.register(Other)).to.throw(/resource name "w" is used by both Widgets and Wombats/);
  });
});
