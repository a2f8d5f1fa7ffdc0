// `trustctl config info`: the current context in a few lines (or JSON/YAML), its client certificate or CA as PEM
// (`--crt`, `--ca`: pipe to `openssl x509 -noout -text`), or the context as talosconfig YAML (`--base64=false`, the
// form the Talos PKI page pipes into `yq '.contexts[.context].crt' | base64 -d`).
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { relativeTime } from './relative-time.js';
import { load, located, withTalosconfigOption } from './talosconfig-file.js';
import type { Located } from './talosconfig-file.js';

export interface InfoOptions extends Located {
  output: string;
  crt?: boolean;
  ca?: boolean;
  /** `--base64=false` (or true): the talosconfig YAML form; the value is accepted, the fields are base64 either way. */
  base64?: string;
}

interface Info {
  context: string;
  nodes: string[];
  endpoints: string[];
  roles: string[];
  certTTL: string;
  certNotAfter: string;
}

export function registerConfigInfoCommand(config: Command, io: CliIo): void {
  withTalosconfigOption(config.command('info'))
    .description('Show information about the current context')
    .option('--context <name>', 'show this context instead of the current one')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'yaml']).default('text'))
    .option('--crt', 'print the client certificate as PEM (for `openssl x509 -noout -text`)')
    .option('--ca', 'print the CA certificate as PEM (for `openssl verify -CAfile`)')
    .addOption(
      new Option('--base64 <bool>', "print the context as talosconfig YAML for yq, as in the Talos docs' `config info --base64=false | yq -r '.contexts[.context].crt' | base64 -d`; ca and crt stay base64 as in the file, the key is left out")
        .choices(['true', 'false']),
    )
    .action((opts: InfoOptions, cmd: Command) => configInfo({ ...opts, ...located(cmd) }, io));
}

export async function configInfo(opts: InfoOptions, io: CliIo): Promise<void> {
  const { stringify } = await import('yaml');
  const { contextCredentials, formatTalosconfig, selectContext } = await import('../config/index.js');
  const { parseCertificatePem } = await import('../pki/index.js');
  const pem = pemWanted(opts);
  const { path, config } = await load(opts, io);
  if (Object.keys(config.contexts).length === 0)
    throw new Error(`talosconfig "${path}" has no contexts: create one with \`trustctl gen config\` and add it with \`trustctl config merge\``);
  const { name, context } = selectContext(config, opts.context || config.context);
  const { caPem, crtPem } = contextCredentials(name, context);

  if (pem) {
    const text = pem === 'ca' ? caPem : crtPem;
    if (!text) throw new Error(`talosconfig "${path}": contexts.${name}.${pem} is empty, so there is no ${pem === 'ca' ? 'CA' : 'client'} certificate to print`);
    parseCertificatePem(text, `contexts.${name}.${pem}`);
    io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return;
  }
  if (opts.base64 !== undefined) {
    // The private key is left out: this output is meant for pipes and terminals, and nothing in it needs the key.
    io.stdout.write(formatTalosconfig({ context: name, contexts: { [name]: { ...context, key: '' } } }));
    return;
  }

  const info: Info = { context: name, nodes: context.nodes, endpoints: context.endpoints, roles: [], certTTL: '', certNotAfter: '' };
  if (crtPem) {
    const cert = parseCertificatePem(crtPem, `contexts.${name}.crt`);
    const notAfter = new Date(cert.validTo);
    info.roles = organizationsOf(cert.subject).sort();
    info.certTTL = relativeTime(notAfter, new Date());
    info.certNotAfter = notAfter.toISOString().slice(0, 10);
  }
  if (opts.output === 'json') io.stdout.write(JSON.stringify(info, null, 2) + '\n');
  else if (opts.output === 'yaml') io.stdout.write(stringify(info, { indent: 4 }));
  else io.stdout.write(formatInfo(info));
}

/** Which PEM to print, if any; the output choices exclude each other, so a mix is refused before anything is read. */
function pemWanted(opts: InfoOptions): 'ca' | 'crt' | undefined {
  const chosen = [opts.crt && '--crt', opts.ca && '--ca', opts.base64 !== undefined && '--base64', opts.output !== 'text' && `-o ${opts.output}`].filter(Boolean);
  if (chosen.length > 1) throw new Error(`config info: ${chosen.join(' and ')} choose different outputs; give one of them`);
  return opts.crt ? 'crt' : opts.ca ? 'ca' : undefined;
}

function formatInfo(info: Info): string {
  const list = (items: string[]) => (items.length > 0 ? items.join(', ') : 'not defined');
  const lines = [`Current context:     ${info.context}`, `Nodes:               ${list(info.nodes)}`, `Endpoints:           ${list(info.endpoints)}`];
  if (info.roles.length > 0) lines.push(`Roles:               ${info.roles.join(', ')}`);
  if (info.certTTL) lines.push(`Certificate expires: ${info.certTTL} (${info.certNotAfter})`);
  return lines.join('\n') + '\n';
}

/** Node prints a subject one attribute per line: `O=os:admin\nCN=talosctl-client`. */
function organizationsOf(subject: string): string[] {
  return subject
    .split('\n')
    .filter((line) => line.startsWith('O='))
    .map((line) => line.slice(2));
}
