// `trustctl config new`: a talosconfig with a new client certificate. Offline with --with-secrets, signed with the OS
// CA of a secrets bundle or a control plane machine config (in the PKCS#11 token when the key is a pkcs11: URI, and
// recorded in a local node's audit trail with --state); else issued by a node over the API (remote-config-new.ts).
// Whatever signs, reads or writes loads only when the command runs.
import { X509Certificate } from 'node:crypto';
import type { Command } from 'commander';
import type { PemCertAndKey } from '../config/index.js';
import { ageIdentityOption } from './age-flags.js';
import type { AgeIdentityFlags } from './age-flags.js';
import type { CliIo, CliPlace } from './cli-io.js';
import { inCwd } from './cli-io.js';
import { clampNotice, DEFAULT_CRT_TTL_MS, durationOption, formatHours, lifetimeHours, LIFETIME_BOUNDS_HELP } from './duration.js';
import { pkcs11Options } from './pkcs11-flags.js';
import type { Pkcs11Flags } from './pkcs11-flags.js';
import { requireStore, resolveStateDir } from './state-path.js';
import { load, located, withTalosconfigOption } from './talosconfig-file.js';
import type { Located } from './talosconfig-file.js';

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

export function registerConfigNewCommand(config: Command, io: CliIo): void {
  const command = withTalosconfigOption(config.command('new'))
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
      if (opts.withSecrets) return configNew(path ?? opts.output, opts, located(cmd), io);
      const { remoteConfigNew } = await import('./remote-config-new.js');
      const { remoteTargetOf } = await import('./remote-target.js');
      return remoteConfigNew(path ?? opts.output, { roles: opts.roles, ...(opts.crtTtl !== undefined ? { crtTtlMs: opts.crtTtl } : {}), cluster: opts.cluster, force: opts.force }, remoteTargetOf(cmd), io);
    });
  // with --with-secrets whose OS CA key is a pkcs11: URI, the client certificate is signed in the token
  for (const option of pkcs11Options()) command.addOption(option);
}

export async function configNew(path: string, opts: NewOptions, where: Located, io: CliIo): Promise<void> {
  const { contextNameFor, formatTalosconfig, issueClientCertificate, newContext, parseRoles } = await import('../config/index.js');
  const { refuseOverwrite, writeFileAtomic } = await import('./files.js');
  const { withTokenUse } = await import('./pkcs11-use.js');
  const ttlMs = opts.crtTtl ?? DEFAULT_CRT_TTL_MS;
  if (!(ttlMs > 0)) throw new Error('crt_ttl should be positive');
  const validityHours = lifetimeHours('--crt-ttl', ttlMs);
  const roles = parseRoles([opts.roles]);
  if (!opts.withSecrets) throw new Error('--with-secrets is required: config new runs offline and signs with the OS CA of a secrets bundle or a control plane config');
  refuseOverwrite(path, Boolean(opts.force), inCwd(io, path));
  // A store that is not there is found before anything is issued or written.
  if (opts.state) requireStore(resolveStateDir(opts.state, io));
  const source = await readSigningSource(opts.withSecrets, opts, io);

  const current = await load(where, io).catch(() => undefined);
  const currentContext = current?.config.contexts[current.config.context];
  const clusterName = opts.cluster || source.clusterName || current?.config.context.replace(/^.*@/, '') || 'talos-default';
  const client = await withTokenUse(opts, io, (use) => issueClientCertificate(source.osCA, { roles, validityHours, signingCA: (os) => use.signingCA(os, source.field) }));
  if (client.clampedTo && opts.crtTtl !== undefined) io.stderr.write(`${clampNotice('--crt-ttl', client.clampedTo)}\n`);
  const contextName = contextNameFor(roles, clusterName);
  // make the new config immediately useful: keep the endpoints of the current context, as talosctl does
  const context = newContext(currentContext?.endpoints ?? [], { caPem: source.osCA.crt, crtPem: client.crt, keyPem: client.key });
  await writeFileAtomic({ path: inCwd(io, path), data: formatTalosconfig({ context: contextName, contexts: { [contextName]: context } }), mode: 0o600 });
  if (opts.state) await recordIssuance(opts.state, client.crt, roles, io);
}

/** `config new --with-secrets ... --state DIR`: the offline issuance goes into that node's audit trail. */
async function recordIssuance(stateFlag: string, crt: string, roles: string[], io: CliIo): Promise<void> {
  const { certificateDetails } = await import('../controllers/audit/index.js');
  const { openNodeState } = await import('../server/node.js');
  const { recordLocally } = await import('./local-audit.js');
  const { state } = await openNodeState(resolveStateDir(stateFlag, io), undefined, false, io.env);
  try {
    await recordLocally(state, { action: 'certificate-issued', details: { ...certificateDetails('os', new X509Certificate(crt)), issuedBy: 'config new', roles } }, io.stderr);
  } finally {
    await state.close();
  }
}

/** The OS CA and cluster name from either a secrets bundle or a control plane machine config. */
async function readSigningSource(file: string, flags: AgeIdentityFlags, place: CliPlace): Promise<{ osCA: PemCertAndKey; clusterName: string; field: string }> {
  const { caPairProblem, ConfigError, MultiError, parseMachineConfig, parseSecretsBundle, validateSecretsBundle } = await import('../config/index.js');
  const { cannotRead, readInputFile } = await import('./input-file.js');
  const text = await readInputFile({ path: file, label: `--with-secrets "${file}"`, unreadable: (err) => cannotRead('--with-secrets', file, err) }, flags, place);
  try {
    if (/^version:\s*v1alpha1\s*$/m.test(text)) {
      const machine = parseMachineConfig(text, file);
      const osCA = machine.osCA;
      // an empty key (a worker config) is refused by issueClientCertificate, with the fix
      const problem = osCA.key ? caPairProblem(osCA, new Date()) : undefined;
      if (problem) throw new ConfigError('machine.ca', problem);
      return { osCA, clusterName: machine.clusterName, field: 'machine.ca' };
    }
    return { osCA: validateSecretsBundle(parseSecretsBundle(text, file), new Date()).certs.os, clusterName: '', field: 'certs.os' };
  } catch (err) {
    if (err instanceof MultiError || err instanceof ConfigError) throw new Error(`--with-secrets "${file}" is invalid: ${err.message}`);
    throw err;
  }
}
