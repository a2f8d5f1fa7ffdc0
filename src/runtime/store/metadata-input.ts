// Checks the caller-supplied parts of metadata before anything is written, naming the field at fault.
import { ValidationError } from '../errors.js';

export function checkName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new ValidationError(field, `expected a non-empty string, got ${describe(value)}`);
  return value;
}

export function checkStringMap(field: string, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, `expected a map of strings, got ${describe(value)}`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new ValidationError(`${field}.${k}`, `expected a string, got ${describe(v)}`);
    out[k] = v;
  }
  return out;
}

export function checkFinalizers(field: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ValidationError(field, `expected a list of strings, got ${describe(value)}`);
  const out: string[] = [];
  value.forEach((f, i) => {
    const name = checkName(`${field}[${i}]`, f);
    if (!out.includes(name)) out.push(name);
  });
  return out;
}

export function checkVersion(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ValidationError(field, `expected the resource's current version (an integer >= 1), got ${describe(value)}`);
  }
  return value;
}

/** JSON text of a validated spec; a spec JSON cannot carry (undefined, a function) is refused. */
export function specJson(spec: unknown): string {
  const text = spec === undefined ? undefined : JSON.stringify(spec);
  if (text === undefined) throw new ValidationError('spec', `expected plain data, got ${describe(spec)}`);
  return text;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return value === '' ? 'an empty string' : `"${value}"`;
  return typeof value === 'object' ? 'a map' : typeof value;
}
