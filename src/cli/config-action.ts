// The actions of `trustctl config ...` (config.ts declares the commands), loaded only when one runs.
import { readFile } from 'node:fs/promises';
import {
  caPairProblem,
  ConfigError,
  contextNameFor,
  formatTalosconfig,
  issueClientCertificate,
  mergeTalosconfig,
  MultiError,
  newContext,
  parseMachineConfig,
  parseRoles,
  parseSecretsBundle,
  parseTalosconfig,
  readTalosconfigFile,
  resolveTalosconfigPath,
  selectContext,
  validateSecretsBundle,
} from '../config/index.js';
import type { PemCertAndKey, Talosconfig } from '../config/index.js';
import type { AgeIdentityFlags } from './age-flags.js';
import { inCwd } from './cli-io.js';
import type { CliIo, CliPlace } from './cli-io.js';
import { refuseOverwrite, writeFileAtomic } from './files.js';
import { cannotRead, readInputFile } from './input-file.js';
import type { Located, NewOptions } from './config.js';
import { withTokenUse } from './pkcs11-use.js';
import { requireStore, resolveStateDir } from './state-path.js';
import { clampNotice, DEFAULT_CRT_TTL_MS, lifetimeHours } from './duration.js';

/** The talosconfig at --talosconfig, $TALOSCONFIG or ~/.talos/config (empty when the file does not exist yet). */
export async function load(where: Located, place: CliPlace): Promise<{ path: string; config: Talosconfig }> {
  const path = resolveTalosconfigPath(where.talosconfig, place.env);
  return { path, config: await readTalosconfigFile(path, inCwd(place, path)) };
}

export async function save(path: string, config: Talosconfig, place: CliPlace): Promise<void> {
  await writeFileAtomic({ path: inCwd(place, path), data: formatTalosconfig(config), mode: 0o600 });
}

export async function configContexts(where: Located, io: CliIo): Promise<void> {
  const { config } = await load(where, io);
  const rows = [['CURRENT', 'NAME', 'ENDPOINTS', 'NODES']];
  for (const name of Object.keys(config.contexts).sort()) {
    const ctx = config.contexts[name];
    const nodes = ctx.nodes.length > 3 ? `${ctx.nodes.slice(0, 3).join(',')}...` : ctx.nodes.join(',');
    rows.push([name === config.context ? '*' : '', name, ctx.endpoints.join(','), nodes]);
  }
  io.stdout.write(tabulate(rows));
}

/** Columns padded like Go's tabwriter with padding 3 (what talosctl uses). */
function tabulate(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] + 3))).join('').trimEnd() + '\n').join('');
}

export async function configUseContext(name: string, where: Located, io: CliIo): Promise<void> {
  const { path, config } = await load(where, io);
  selectContext(config, name);
  await save(path, { ...config, context: name }, io);
}

export async function configMerge(file: string, where: Located, io: CliIo): Promise<void> {
  let text: string;
  try {
    text = await readFile(inCwd(io, file), 'utf8');
  } catch (err) {
    throw new Error(`cannot read "${file}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const other = parseTalosconfig(text, file);
  const { path, config } = await load(where, io);
  const { merged, renames } = mergeTalosconfig(config, other);
  await save(path, merged, io);
  for (const r of renames) io.stderr.write(`renamed talosconfig context "${r.from}" -> "${r.to}"\n`);
}

export async function configNew(path: string, opts: NewOptions, where: Located, io: CliIo): Promise<void> {
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
  const { X509Certificate } = await import('node:crypto');
  const { certificateDetails } = await import('../controllers/audit/index.js');
  const { openNodeState } = await import('../server/node.js');
  const { recordLocally } = await import('./local-audit.js');
  const { state } = await openNodeState(resolveStateDir(stateFlag, io));
  try {
    await recordLocally(state, { action: 'certificate-issued', details: { ...certificateDetails('os', new X509Certificate(crt)), issuedBy: 'config new', roles } }, io.stderr);
  } finally {
    await state.close();
  }
}

/** The OS CA and cluster name from either a secrets bundle or a control plane machine config. */
async function readSigningSource(file: string, flags: AgeIdentityFlags, place: CliPlace): Promise<{ osCA: PemCertAndKey; clusterName: string; field: string }> {
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
