// `trustctl config add NAME`: a context from CA, client certificate and key files (replacing one of the same name, as
// talosctl does); it does not become current. The files are read and checked before the talosconfig is written.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { TalosContext } from '../config/index.js';
import { inCwd } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { load, located, save, withTalosconfigOption } from './talosconfig-file.js';
import type { Located } from './talosconfig-file.js';

export interface AddOptions {
  ca?: string;
  crt?: string;
  key?: string;
}

export function registerConfigAddCommand(config: Command, io: CliIo): void {
  withTalosconfigOption(config.command('add'))
    .description('Add a context (replacing one of the same name) from CA, client certificate and key files; it does not become current')
    .argument('<context>', 'name of the new context')
    .option('--ca <file>', 'the CA certificate (PEM)')
    .option('--crt <file>', 'the client certificate (PEM); needs --key')
    .option('--key <file>', 'the client key (PEM); needs --crt')
    .action((name: string, opts: AddOptions, cmd: Command) => configAdd(name, opts, located(cmd), io));
}

/** Adds (or, as talosctl does, replaces) a context; it does not become the current one. */
export async function configAdd(name: string, opts: AddOptions, where: Located, io: CliIo): Promise<void> {
  const { encodePemField } = await import('../config/index.js');
  const { parseCertificatePem, parsePrivateKeyPem } = await import('../pki/index.js');
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

