// talosctl's talosconfig editing commands: `config endpoint`, `config node` (replace the lists of the current context,
// or of --context), `config add` (a context from CA, certificate and key files) and `config remove` (contexts by name or
// `*` pattern, never the current one). Every argument is checked before the file is written, so bad input changes
// nothing.
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Interface } from 'node:readline';
import { encodePemField, isDNSName, isIPAddress, selectContext } from '../config/index.js';
import type { TalosContext } from '../config/index.js';
import { parseCertificatePem, parsePrivateKeyPem } from '../pki/index.js';
import { parseNodeAddress } from '../server/apid/index.js';
import { inCwd } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { load, save } from './config-action.js';
import type { AddOptions, Located, RemoveOptions } from './config.js';

export async function configEndpoints(args: string[], where: Located, io: CliIo): Promise<void> {
  const endpoints = addresses(args, 'endpoint');
  if (endpoints.length === 0) throw new Error('config endpoint: give at least one endpoint (host[:port], e.g. 10.5.0.2)');
  await editContext(where, io, (ctx) => ({ ...ctx, endpoints }));
}

/** No arguments clears the nodes, as in talosctl: commands then ask the endpoint itself. */
export async function configNodes(args: string[], where: Located, io: CliIo): Promise<void> {
  const nodes = addresses(args, 'node');
  await editContext(where, io, (ctx) => ({ ...ctx, nodes }));
}

async function editContext(where: Located, io: CliIo, change: (ctx: TalosContext) => TalosContext): Promise<void> {
  const { path, config } = await load(where, io);
  if (Object.keys(config.contexts).length === 0) throw new Error(`talosconfig "${path}" has no contexts: create one with \`trustctl gen config\` or \`trustctl config add\``);
  const { name, context } = selectContext(config, where.context || config.context);
  await save(path, { ...config, contexts: { ...config.contexts, [name]: change(context) } }, io);
}

/** Trimmed addresses, each host[:port] with an IP address or DNS name for host; the first bad one is refused. */
function addresses(args: string[], what: 'endpoint' | 'node'): string[] {
  return args.map((arg) => {
    const value = arg.trim();
    const fix = `expected host[:port] with an IP address or DNS name, e.g. 10.5.0.2 or cp-1.example.com:50000`;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new Error(`config ${what}: ${JSON.stringify(arg)}: ${fix}, without a scheme`);
    let host: string;
    try {
      host = parseNodeAddress(value).host;
    } catch (err) {
      throw new Error(`config ${what}: ${(err as Error).message}`);
    }
    if (!isIPAddress(host) && !isDNSName(host)) throw new Error(`config ${what}: ${JSON.stringify(arg)}: ${fix}`);
    return value;
  });
}

/** Adds (or, as talosctl does, replaces) a context; it does not become the current one. */
export async function configAdd(name: string, opts: AddOptions, where: Located, io: CliIo): Promise<void> {
  if (!name.trim()) throw new Error('config add: the context name must not be empty');
  if (Boolean(opts.crt) !== Boolean(opts.key)) throw new Error('config add: --crt and --key go together: give both (the client certificate and its key) or neither');
  const context: TalosContext = { endpoints: [], nodes: [], ca: '', crt: '', key: '' };
  if (opts.ca) {
    const ca = await readPem(opts.ca, '--ca', io);
    checked(() => parseCertificatePem(ca, `--ca "${opts.ca}"`));
    context.ca = encodePemField(ca);
  }
  if (opts.crt && opts.key) {
    const crt = await readPem(opts.crt, '--crt', io);
    const key = await readPem(opts.key, '--key', io);
    const cert = checked(() => parseCertificatePem(crt, `--crt "${opts.crt}"`));
    const pair = checked(() => parsePrivateKeyPem(key, `--key "${opts.key}"`));
    if (!cert.checkPrivateKey(pair.privateKey)) throw new Error(`config add: --key "${opts.key}" is not the key of the certificate in --crt "${opts.crt}"`);
    context.crt = encodePemField(crt);
    context.key = encodePemField(key);
  }
  const { path, config } = await load(where, io);
  if (name in config.contexts) io.stderr.write(`replacing talosconfig context "${name}"\n`);
  await save(path, { ...config, contexts: { ...config.contexts, [name]: context } }, io);
}

/** PEM problems, said as config add's. */
function checked<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new Error(`config add: ${(err as Error).message}`);
  }
}

async function readPem(file: string, flag: string, io: CliIo): Promise<string> {
  try {
    return await readFile(inCwd(io, file), 'utf8');
  } catch (err) {
    throw new Error(`config add: ${flag}: cannot read "${file}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

/** Removes the contexts `pattern` matches (`*` matches any run of characters), asking for each unless -y. */
export async function configRemove(pattern: string, opts: RemoveOptions, where: Located, io: CliIo): Promise<void> {
  if (!pattern) throw new Error('config remove: no context specified');
  const { path, config } = await load(where, io);
  if (Object.keys(config.contexts).length === 0) throw new Error(`config remove: talosconfig "${path}" has no contexts`);
  const matcher = globToRegExp(pattern);
  const matches = Object.keys(config.contexts).filter((name) => matcher.test(name)).sort();
  if (matches.length === 0) throw new Error(`config remove: no contexts matched ${JSON.stringify(pattern)} (defined: ${Object.keys(config.contexts).sort().join(', ')})`);
  const contexts = { ...config.contexts };
  let removed = 0;
  const prompt = opts.noconfirm ? undefined : new Prompt(io);
  try {
    for (const name of matches) {
      if (name === config.context) {
        io.stderr.write(`skipping removal of current context "${name}": switch to another one first (trustctl config context NAME)\n`);
        continue;
      }
      if (!prompt) io.stderr.write(`removing context "${name}"\n`);
      else if (!(await prompt.confirm(`remove context "${name}"?`))) continue;
      delete contexts[name];
      removed++;
    }
  } finally {
    prompt?.close();
  }
  if (opts.dryRun || removed === 0) return;
  await save(path, { ...config, contexts }, io);
}

function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/**
 * Questions on stderr, answers from stdin, one line each. One reader serves every question: a reader per question
 * would swallow the answers piped in after its own.
 */
class Prompt {
  private readonly rl: Interface;
  private readonly lines: AsyncIterator<string>;

  constructor(private readonly io: CliIo) {
    this.rl = createInterface({ input: io.stdin, terminal: false });
    this.lines = this.rl[Symbol.asyncIterator]();
  }

  /** Anything but y/yes (or no answer at all) is a no. */
  async confirm(question: string): Promise<boolean> {
    this.io.stderr.write(`${question} [y/N]: `);
    const next = await this.lines.next();
    if (next.done) this.io.stderr.write('\n');
    return !next.done && /^y(es)?$/i.test(next.value.trim());
  }

  close(): void {
    this.rl.close();
  }
}
