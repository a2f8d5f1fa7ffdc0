// Resource types the store tests write: a plain one and a sensitive one.
import { ValidationError } from '../../src/runtime/errors.js';
import { ResourceRegistry, defineResource } from '../../src/runtime/resource.js';

export interface WidgetSpec {
  size: number;
  color?: string;
}

export const Widgets = defineResource<WidgetSpec>({
  type: 'Widgets',
  aliases: ['widget', 'wd'],
  namespace: 'default',
  sensitive: false,
  printColumns: [{ name: 'SIZE', value: (r) => String(r.spec.size) }],
  validate(spec) {
    const s = spec as Partial<WidgetSpec> | null;
    if (typeof s !== 'object' || s === null) throw new ValidationError('spec', 'expected a map');
    if (typeof s.size !== 'number') throw new ValidationError('spec.size', `expected a number, got ${typeof s.size}`);
    if (s.color !== undefined && typeof s.color !== 'string') throw new ValidationError('spec.color', `expected a string, got ${typeof s.color}`);
    return s.color === undefined ? { size: s.size } : { size: s.size, color: s.color };
  },
});

export interface KeyPairSpec {
  key: string;
}

export const KeyPairs = defineResource<KeyPairSpec>({
  type: 'KeyPairs',
  aliases: ['keypair'],
  namespace: 'secrets',
  sensitive: true,
  printColumns: [],
  validate(spec) {
    const key = (spec as { key?: unknown } | null)?.key;
    if (typeof key !== 'string') throw new ValidationError('spec.key', `expected a string, got ${typeof key}`);
    return { key };
  },
});

export function testRegistry(): ResourceRegistry {
  return new ResourceRegistry([Widgets, KeyPairs]);
}
