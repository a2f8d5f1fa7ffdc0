// `trustctl config ...`: the client configuration (talosconfig) commands of talosctl, with `config new` working offline
// from a secrets bundle or a control plane machine config.
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { ageIdentityOption } from './age-flags.js';
import type { AgeIdentityFlags } from './age-flags.js';
import { pkcs11Options } from './pkcs11-flags.js';
import type { Pkcs11Flags } from './pkcs11-flags.js';
import { DEFAULT_CRT_TTL_MS, durationOption, formatHours, LIFETIME_BOUNDS_HELP } from './duration.js';

export interface Located {
  talosconfig?: string;
  context?: string;
}

export function registerConfigCommands(program: Command, io: CliIo): void {
  const config = program.command('config').description('Manage the client configuration file (talosconfig)');
  const withPath = (cmd: Command) => cmd.option('--talosconfig <path>', 'the talosconfig to use (default: $TALOSCONFIG, then ~/.talos/config)');

  withPath(config.command('info'))
    .description('Show information about the current context')
    .option('--context <name>', 'show this context instead of the current one')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'yaml']).default('text'))
    .option('--crt', 'print the client certificate as PEM (for `openssl x509 -noout -text`)')
    .option('--ca', 'print the CA certificate as PEM (for `openssl verify -CAfile`)')
    .addOption(
      new Option('--base64 <bool>', "print the context as talosconfig YAML for yq, as in the Talos docs' `config info --base64=false | yq -r '.contexts[.context].crt' | base64 -d`; ca and crt stay base64 as in the file, the key is left out")
        .choices(['true', 'false']),
    )
    .action(async (opts: InfoOptions, cmd: Command) => (await import('./config-info-action.js')).configInfo({ ...opts, ...located(cmd) }, io));

  withPath(config.command('contexts').alias('get-contexts'))
    .description('List defined contexts')
    .action(async (_opts: unknown, cmd: Command) => (await import('./config-action.js')).configContexts(located(cmd), io));

  withPath(config.command('context').alias('use-context'))
    .description('Set the current context')
    .argument('<name>', 'the context to make current')
    .action(async (name: string, _opts: unknown, cmd: Command) => (await import('./config-action.js')).configUseContext(name, located(cmd), io));

  withPath(config.command('endpoint').alias('endpoints'))
    .description('Set the endpoint(s) of the current context (or of --context): the apid addresses trustctl connects to')
    .argument('<endpoint...>', 'host[:port], e.g. 10.5.0.2 or cp-1.example.com:50000')
    .action(async (args: string[], _opts: unknown, cmd: Command) => (await import('./config-context-action.js')).configEndpoints(args, located(cmd), io));

  withPath(config.command('node').alias('nodes'))
    .description('Set the node(s) of the current context (or of --context): the nodes commands ask through the endpoint; none clears them')
    .argument('[node...]', 'host[:port], e.g. 10.5.0.3')
    .action(async (args: string[], _opts: unknown, cmd: Command) => (await import('./config-context-action.js')).configNodes(args, located(cmd), io));

  withPath(config.command('add'))
    .description('Add a context (replacing one of the same name) from CA, client certificate and key files; it does not become current')
    .argument('<context>', 'name of the new context')
    .option('--ca <file>', 'the CA certificate (PEM)')
    .option('--crt <file>', 'the client certificate (PEM); needs --key')
    .option('--key <file>', 'the client key (PEM); needs --crt')
    .action(async (name: string, opts: AddOptions, cmd: Command) => (await import('./config-context-action.js')).configAdd(name, opts, located(cmd), io));

  withPath(config.command('remove'))
    .description('Remove contexts by name or pattern (* matches any characters); the current context is never removed')
    .argument('<context>', 'context name or pattern')
    .option('-y, --noconfirm', 'do not ask for confirmation')
    .option('--dry-run', 'say what would be removed, change nothing')
    .action(async (pattern: string, opts: RemoveOptions, cmd: Command) => (await import('./config-context-action.js')).configRemove(pattern, opts, located(cmd), io));

  withPath(config.command('merge'))
    .description('Merge the contexts of another talosconfig into this one (clashing names are renamed name-1, name-2 ...)')
    .argument('<file>', 'the talosconfig to merge in')
    .action(async (file: string, _opts: unknown, cmd: Command) => (await import('./config-action.js')).configMerge(file, located(cmd), io));

  const configNew = withPath(config.command('new'))
    .description('Generate a new client configuration: offline with --with-secrets (secrets bundle or control plane config), else issued by a node over the API (os:admin)')
    .argument('[path]', 'where to write it (same as -o)')
    .option('-o, --output <file>', 'where to write the new talosconfig', 'talosconfig')
    .option('--with-secrets <file>', 'secrets bundle (or control plane machine config) holding the OS CA key; plain or age-encrypted')
    .addOption(ageIdentityOption())
    .option('--roles <roles>', 'comma-separated roles', 'os:admin')
    // No value default: an unset --crt-ttl is cut to the CA's end silently, a given one with a note. --help shows the
    // default as talosctl does (8760h, Talos's 365 days), not in milliseconds.
    .option('--crt-ttl <duration>', `certificate lifetime (Go syntax: 24h, 8760h; ${LIFETIME_BOUNDS_HELP}) (default: ${formatHours(DEFAULT_CRT_TTL_MS)})`, durationOption('--crt-ttl'))
    .option('--cluster <name>', 'cluster name for the context (default: from a machine config, else the current context)')
    .option('--force', 'overwrite an existing file')
    .option('--state <dir>', "with --with-secrets: record the issuance in the audit trail of the node with this state directory")
    .action(async (path: string | undefined, opts: NewOptions, cmd: Command) => {
      if (opts.withSecrets) return (await import('./config-action.js')).configNew(path ?? opts.output, opts, located(cmd), io);
      const { remoteConfigNew } = await import('./remote-config-new.js');
      const { remoteTargetOf } = await import('./remote-target.js');
      return remoteConfigNew(path ?? opts.output, { roles: opts.roles, ...(opts.crtTtl !== undefined ? { crtTtlMs: opts.crtTtl } : {}), cluster: opts.cluster, force: opts.force }, remoteTargetOf(cmd), io);
    });
  // with --with-secrets whose OS CA key is a pkcs11: URI, the client certificate is signed in the token
  for (const option of pkcs11Options()) configNew.addOption(option);
}

/** --talosconfig and --context, wherever on the command line they were given. */
function located(cmd: Command): Located {
  const all = cmd.optsWithGlobals<Located>();
  return { talosconfig: all.talosconfig, context: all.context };
}

export interface NewOptions extends AgeIdentityFlags, Pkcs11Flags {
  output: string;
  withSecrets?: string;
  roles: string;
  /** Milliseconds; undefined when the flag was not given (87600h then, clamped to the CA without a notice). */
  crtTtl?: number;
  cluster?: string;
  force?: boolean;
  /** With --with-secrets: the state directory of the node whose audit trail records the issuance. */
  state?: string;
}

export interface InfoOptions extends Located {
  output: string;
  crt?: boolean;
  ca?: boolean;
  /** `--base64=false` (or true): the talosconfig YAML form; the value is accepted, the fields are base64 either way. */
  base64?: string;
}

export interface AddOptions {
  ca?: string;
  crt?: string;
  key?: string;
}

export interface RemoveOptions {
  noconfirm?: boolean;
  dryRun?: boolean;
}
