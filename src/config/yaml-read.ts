// Reading loosely typed parsed YAML/JSON into typed values, with errors that name the field path.
import type { Document } from 'yaml';
import { ConfigError } from './config-error.js';

/**
 * The plain data of a parsed document. The yaml library refuses aliases that expand too far (a "billion laughs"
 * document) or name no anchor with a bare ReferenceError; this says which file and what to do.
 */
export function plainData(doc: Document, source: string): unknown {
  try {
    return doc.toJS() as unknown;
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
    const bomb = /alias count/i.test(err.message);
    throw new ConfigError(source, bomb ? 'YAML aliases expand too far (an "alias bomb"?); write the values out instead of aliasing them' : `invalid YAML: ${err.message}`);
  }
}

export type PlainMap = Record<string, unknown>;

export function isPlainMap(value: unknown): value is PlainMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `a ${typeof value}`;
}

/** A nested map, or undefined when the key is absent, null or empty. */
export function readMap(value: unknown, field: string): PlainMap | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (!isPlainMap(value)) throw new ConfigError(field, `expected a map, got ${kindOf(value)}`);
  return value;
}

/** A string; absent and null read as "" (Go's zero value), other kinds are errors. */
export function readString(value: unknown, field: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new ConfigError(field, `expected a string, got ${kindOf(value)}`);
  return value;
}

export function readStringList(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ConfigError(field, `expected a list of strings, got ${kindOf(value)}`);
  return value.map((item, i) => {
    if (typeof item !== 'string') throw new ConfigError(`${field}[${i}]`, `expected a string, got ${kindOf(item)}`);
    return item;
  });
}

/** Lower-cases every map key, so Go's case-insensitive JSON names (`Certs.OS.Crt`) read like the YAML ones. */
export function lowerCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(lowerCaseKeys);
  if (!isPlainMap(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toLowerCase(), lowerCaseKeys(v)]));
}
