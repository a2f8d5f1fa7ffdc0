// PKCS#11 URIs (RFC 7512): how a secrets bundle or a machine config names a CA key that lives in a token, in place of
// the key itself. `pkcs11:token=trustplane;object=os-ca;id=%01%02;type=private`. Parsing is strict: a URI names a key
// the node will sign with, so anything ambiguous (an attribute twice, an unknown attribute, a bad escape) is refused.
import { PkiError } from '../errors.js';

export type Pkcs11ObjectType = 'public' | 'private' | 'cert' | 'secret-key' | 'data';

export interface Pkcs11Uri {
  token?: string;
  manufacturer?: string;
  serial?: string;
  model?: string;
  object?: string;
  /** CKA_ID: raw bytes. */
  id?: Buffer;
  type?: Pkcs11ObjectType;
  slotId?: number;
  /** Query attributes (module-path, module-name, pin-source, pin-value): kept as given, decoded. */
  query: Record<string, string>;
}

const SCHEME = 'pkcs11:';
const TEXT_ATTRIBUTES = ['token', 'manufacturer', 'serial', 'model', 'object'] as const;
const PATH_ATTRIBUTES = new Set<string>([...TEXT_ATTRIBUTES, 'id', 'type', 'slot-id', 'library-manufacturer', 'library-description', 'library-version', 'slot-description', 'slot-manufacturer']);
const QUERY_ATTRIBUTES = new Set(['pin-source', 'pin-value', 'module-name', 'module-path']);
const OBJECT_TYPES = new Set<string>(['public', 'private', 'cert', 'secret-key', 'data']);
/** RFC 7512 §2.3: pchar minus the separators, plus the characters the grammar lets through unescaped (and %XX escapes). */
const PATH_CHARS = /^[A-Za-z0-9\-._~:[\]@!$'()*+,=&%]*$/;
const QUERY_CHARS = /^[A-Za-z0-9\-._~:[\]@!$'()*+,=/?|%]*$/;
const MAX_LENGTH = 4096;

export function isPkcs11Uri(text: string): boolean {
  return text.slice(0, SCHEME.length).toLowerCase() === SCHEME;
}

/** Parses a PKCS#11 URI; `what` names where it came from (a config field) in every error. */
export function parsePkcs11Uri(text: string, what = 'PKCS#11 URI'): Pkcs11Uri {
  const fail = (problem: string): never => {
    throw new PkiError('InvalidOption', `${what}: ${problem}; expected a PKCS#11 URI (RFC 7512) like pkcs11:token=trustplane;object=os-ca;type=private`);
  };
  if (typeof text !== 'string') return fail('not a string');
  if (text.length > MAX_LENGTH) return fail(`${text.length} characters, more than ${MAX_LENGTH}`);
  if (!isPkcs11Uri(text)) return fail('does not start with "pkcs11:"');
  if (/\s/.test(text)) return fail('contains white space (escape it as %20)');
  const rest = text.slice(SCHEME.length);
  const queryAt = rest.indexOf('?');
  const path = queryAt < 0 ? rest : rest.slice(0, queryAt);
  const query = queryAt < 0 ? undefined : rest.slice(queryAt + 1);
  const uri: Pkcs11Uri = { query: {} };
  const seen = new Set<string>();
  for (const [name, raw] of attributes(path, ';', fail)) {
    if (!PATH_ATTRIBUTES.has(name) && !name.startsWith('x-')) fail(`unknown path attribute "${name}"`);
    if (!PATH_CHARS.test(raw)) fail(`attribute "${name}" holds a character that must be percent-encoded`);
    if (seen.has(name)) fail(`attribute "${name}" appears twice`);
    seen.add(name);
    setPathAttribute(uri, name, percentDecode(raw, name, fail), fail);
  }
  if (query !== undefined) {
    for (const [name, raw] of attributes(query, '&', fail)) {
      if (!QUERY_ATTRIBUTES.has(name) && !name.startsWith('x-')) fail(`unknown query attribute "${name}"`);
      if (!QUERY_CHARS.test(raw)) fail(`query attribute "${name}" holds a character that must be percent-encoded`);
      if (name in uri.query) fail(`query attribute "${name}" appears twice`);
      uri.query[name] = utf8(percentDecode(raw, name, fail), name, fail);
    }
    if ('pin-value' in uri.query && 'pin-source' in uri.query) fail('"pin-value" and "pin-source" are both given; give one');
  }
  return uri;
}

function attributes(part: string, separator: string, fail: (problem: string) => never): [string, string][] {
  if (part === '') return [];
  return part.split(separator).map((pair) => {
    const eq = pair.indexOf('=');
    if (pair === '') fail(`an empty attribute (two "${separator}" in a row, or one at the end)`);
    if (eq <= 0) fail(`"${pair}" is not an attribute=value pair`);
    return [pair.slice(0, eq).toLowerCase(), pair.slice(eq + 1)];
  });
}

function setPathAttribute(uri: Pkcs11Uri, name: string, value: Buffer, fail: (problem: string) => never): void {
  if (name === 'id') {
    if (value.length === 0) fail('"id" is empty');
    uri.id = value;
  } else if (name === 'type') {
    const type = utf8(value, name, fail);
    if (!OBJECT_TYPES.has(type)) fail(`type "${type}" is not one of public, private, cert, secret-key, data`);
    uri.type = type as Pkcs11ObjectType;
  } else if (name === 'slot-id') {
    const text = utf8(value, name, fail);
    if (!/^[0-9]{1,19}$/.test(text)) fail(`slot-id "${text}" is not a decimal number`);
    uri.slotId = Number(text);
  } else if ((TEXT_ATTRIBUTES as readonly string[]).includes(name)) {
    const text = utf8(value, name, fail);
    if (text === '') fail(`"${name}" is empty`);
    uri[name as (typeof TEXT_ATTRIBUTES)[number]] = text;
  }
  // library-*, slot-description, slot-manufacturer and x-* attributes are accepted and not used to find a key
}

function percentDecode(raw: string, name: string, fail: (problem: string) => never): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== '%') {
      bytes.push(raw.charCodeAt(i));
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) fail(`attribute "${name}" has a bad percent escape "%${hex}" (two hex digits must follow %)`);
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(bytes);
}

function utf8(value: Buffer, name: string, fail: (problem: string) => never): string {
  const text = value.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(value)) fail(`attribute "${name}" is not valid UTF-8 once decoded`);
  if (value.some((b) => b < 0x20 || b === 0x7f)) fail(`attribute "${name}" holds a control character`);
  return text;
}

/** Prints the URI with path attributes in a fixed order; every byte outside RFC 3986's unreserved set is escaped. */
export function formatPkcs11Uri(uri: Pkcs11Uri): string {
  const path: string[] = [];
  for (const name of TEXT_ATTRIBUTES) {
    const value = uri[name];
    if (value !== undefined) path.push(`${name}=${percentEncode(Buffer.from(value, 'utf8'))}`);
  }
  if (uri.id) path.push(`id=${[...uri.id].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('')}`);
  if (uri.slotId !== undefined) path.push(`slot-id=${uri.slotId}`);
  if (uri.type) path.push(`type=${uri.type}`);
  const query = Object.entries(uri.query).map(([k, v]) => `${k}=${percentEncode(Buffer.from(v, 'utf8'))}`);
  return `${SCHEME}${path.join(';')}${query.length ? `?${query.join('&')}` : ''}`;
}

function percentEncode(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).padStart(2, '0').toUpperCase()}`;
  }
  return out;
}
