// The client configuration (talosconfig): named contexts holding endpoints, nodes and base64 PEM credentials.
import { Document, parseDocument } from 'yaml';
import { isAgeEncrypted } from './age-header.js';
import { ConfigError } from './config-error.js';
import { certAndKeyProblem, certificateProblem, privateKeyProblem } from './pem-check.js';
import { decodePemField, encodePemField } from './pem-field.js';
import { plainData, readMap, readString, readStringList } from './yaml-read.js';

export interface TalosContext {
  endpoints: string[];
  nodes: string[];
  /** base64 of PEM, as stored; use contextCredentials() for the PEM text. */
  ca: string;
  crt: string;
  key: string;
  /** Fields we do not model (auth, cluster ...), kept as read. */
  extra?: Record<string, unknown>;
}

export interface Talosconfig {
  context: string;
  contexts: Record<string, TalosContext>;
}

const KNOWN = new Set(['endpoints', 'nodes', 'ca', 'crt', 'key', 'target']);

export function parseTalosconfig(text: string, source = 'talosconfig'): Talosconfig {
  // `gen config --age-recipient` writes the talosconfig encrypted; a client reads it in plain text only
  if (isAgeEncrypted(Buffer.from(text.slice(0, 256), 'utf8')))
    throw new ConfigError(source, 'age-encrypted: decrypt it to a file of its own first, e.g. age -d -i key.txt -o talosconfig.plain FILE');
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) throw new ConfigError(source, `invalid YAML: ${doc.errors[0].message}`);
  const root = readMap(plainData(doc, source), source) ?? {};
  const contexts = contextMap<TalosContext>();
  for (const [name, value] of Object.entries(readMap(root.contexts, 'contexts') ?? {})) {
    const raw = readMap(value, `contexts.${name}`) ?? {};
    const field = (f: string) => `contexts.${name}.${f}`;
    const endpoints = readStringList(raw.endpoints, field('endpoints'));
    // `target` is the pre-endpoints single address; talosctl upgrades it the same way
    const target = readString(raw.target, field('target'));
    if (target) endpoints.push(target);
    const ctx: TalosContext = {
      endpoints,
      nodes: readStringList(raw.nodes, field('nodes')),
      ca: readString(raw.ca, field('ca')),
      crt: readString(raw.crt, field('crt')),
      key: readString(raw.key, field('key')),
    };
    const extra = Object.fromEntries(Object.entries(raw).filter(([k]) => !KNOWN.has(k)));
    if (Object.keys(extra).length > 0) ctx.extra = extra;
    contexts[name] = ctx;
  }
  return { context: readString(root.context, 'context'), contexts };
}

/** talosctl's layout: 4-space indent, `endpoints` always present, empty fields left out. */
export function formatTalosconfig(config: Talosconfig): string {
  const contexts = contextMap<Record<string, unknown>>();
  for (const [name, ctx] of Object.entries(config.contexts)) {
    const out: Record<string, unknown> = { endpoints: ctx.endpoints };
    if (ctx.nodes.length > 0) out.nodes = ctx.nodes;
    if (ctx.ca) out.ca = ctx.ca;
    if (ctx.crt) out.crt = ctx.crt;
    if (ctx.key) out.key = ctx.key;
    contexts[name] = { ...out, ...(ctx.extra ?? {}) };
  }
  return new Document({ context: config.context, contexts }).toString({ indent: 4, lineWidth: 0 });
}

export interface ContextCredentials {
  caPem: string;
  crtPem: string;
  keyPem: string;
}

export function newContext(endpoints: string[], credentials: ContextCredentials, nodes: string[] = []): TalosContext {
  return {
    endpoints,
    nodes,
    ca: encodePemField(credentials.caPem),
    crt: encodePemField(credentials.crtPem),
    key: encodePemField(credentials.keyPem),
  };
}

/** The context's PEMs; a key that is not the certificate's is refused here, not by OpenSSL with an error code. */
export function contextCredentials(name: string, ctx: TalosContext): ContextCredentials {
  const creds = {
    caPem: ctx.ca ? decodePemField(`contexts.${name}.ca`, ctx.ca) : '',
    crtPem: ctx.crt ? decodePemField(`contexts.${name}.crt`, ctx.crt) : '',
    keyPem: ctx.key ? decodePemField(`contexts.${name}.key`, ctx.key) : '',
  };
  const pair = { crt: creds.crtPem, key: creds.keyPem };
  const both = pair.crt && pair.key && !certificateProblem(pair.crt) && !privateKeyProblem(pair.key);
  if (both && certAndKeyProblem(pair))
    throw new ConfigError(`contexts.${name}.key`, `does not match the certificate in contexts.${name}.crt; a context needs its own key pair (make a new one with trustctl config new)`);
  return creds;
}

/** The named context (default: the current one), or an error saying which contexts exist. */
export function selectContext(config: Talosconfig, name = config.context): { name: string; context: TalosContext } {
  if (!name) throw new ConfigError('', 'no context is set; choose one with `trustctl config context NAME`');
  const context = Object.hasOwn(config.contexts, name) ? config.contexts[name] : undefined;
  if (!context) {
    const known = Object.keys(config.contexts).sort();
    throw new ConfigError('', `context "${name}" is not defined${known.length ? ` (defined: ${known.join(', ')})` : ''}`);
  }
  return { name, context };
}

export interface Rename {
  from: string;
  to: string;
}

/**
 * Adds `other`'s contexts to `config` (a copy is returned). A name already present is renamed like talosctl does
 * (`name-1`, `name-2` ...), and the current context becomes `other`'s, under its possibly new name.
 */
export function mergeTalosconfig(config: Talosconfig, other: Talosconfig): { merged: Talosconfig; renames: Rename[] } {
  const contexts = Object.assign(contextMap<TalosContext>(), config.contexts);
  const renames: Rename[] = [];
  const mapped = new Map<string, string>();
  for (const [name, ctx] of Object.entries(other.contexts)) {
    let target = name;
    for (let i = 1; Object.hasOwn(contexts, target); i++) target = `${name}-${i}`;
    if (target !== name) renames.push({ from: name, to: target });
    mapped.set(name, target);
    contexts[target] = ctx;
  }
  const context = other.context ? (mapped.get(other.context) ?? other.context) : config.context;
  return { merged: { context, contexts }, renames };
}

/** Context names are the user's: one called `__proto__` or `constructor` is a name like any other, not Object's. */
function contextMap<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
