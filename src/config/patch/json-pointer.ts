// RFC 6901 JSON pointers: `/machine/certSANs/0` <-> ['machine', 'certSANs', '0'].
import { PatchError } from './patch-error.js';

export type PathSegment = string | number;

export function parsePointer(pointer: string, where: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(where, `path ${JSON.stringify(pointer)} must start with "/" (e.g. /machine/certSANs)`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function formatPointer(path: readonly PathSegment[]): string {
  return path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** `['machine', 'network', 'interfaces', 0]` -> `machine.network.interfaces[0]`, the config's own field names. */
export function dottedPath(path: readonly PathSegment[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}
