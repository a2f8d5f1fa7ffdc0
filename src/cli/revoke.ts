// `trustctl revoke`: revokes one certificate without rotating its CA (a leaked talosconfig, a compromised node), over
// the API (os:admin) or on a local store with --state; `--undo` lifts a revocation. `trustctl crl <ca>` prints a CA's
// CRL. The certificate is named by what the user has in hand: the file, the talosconfig, its serial or fingerprint.
// The store and the API sit behind one RevocationBackend; both, and the certificate readers, load only when a command
// runs.
import { readFile } from 'node:fs/promises';
import { Argument, Option } from 'commander';
import type { Command } from 'commander';
import { CA_NAMES } from '../resources/common.js';
import type { CaName } from '../resources/common.js';
import { REVOCATION_REASON_NAMES } from '../pki/crl.js';
import type { RevocationListSpec } from '../resources/revocation-lists.js';
import type { RevocationSpec } from '../resources/revocations.js';
import type { Resource } from '../runtime/resource.js';
import type { State } from '../runtime/state.js';
import type { paths as apiPaths } from '../server/apid/index.js';
import type * as revocationModule from '../server/revocation/index.js';
import type { RevocationEvent, RevocationSelector, RevocationWriter, RevokeRequest, RevokeResult } from '../server/revocation/index.js';
import type { RemoteTarget } from './api-client.js';
import { inCwd } from './cli-io.js';
import type { CliIo, CliPlace } from './cli-io.js';
import { rawArgsOf, splitTalosconfigFlags } from './revoke-args.js';
import { remoteTargetOf, runsRemotely } from './remote-target.js';
import { STATE_OPTION_HELP, requireStore, resolveStateDir } from './state-path.js';

export interface RevokeOptions {
  cert?: string;
  serial?: string;
  fingerprint?: string;
  reason?: string;
  reasonCode?: string;
  ca?: string;
  undo?: boolean;
  state?: string;
}

export function registerRevokeCommands(program: Command, io: CliIo): void {
  program
    .command('revoke')
    .description('Revoke one certificate (apid refuses it from the next request, trustd signs nothing more for a revoked node, the CRL lists it); --undo lifts it')
    .option('--cert <file>', 'the PEM certificate to revoke')
    .option('--serial <hex>', 'the serial number of the certificate to revoke (add --ca unless this node holds the certificate)')
    .option('--fingerprint <sha256>', 'the SHA-256 fingerprint of a certificate this node holds')
    // Never filled in here: the program reads --talosconfig/--context; revoke-args.ts tells which side they stood on.
    .option('--talosconfig <file>', "after `revoke`: the talosconfig whose client certificate to revoke (before it: the one to connect with)")
    .option('--context <name>', 'with --talosconfig after `revoke`: the context whose certificate to revoke (default: its current one)')
    .option('--reason <text>', 'why, in a few words: shown to whoever presents the certificate')
    .addOption(new Option('--reason-code <code>', 'the RFC 5280 reason in the CRL (default keyCompromise)').choices(REVOCATION_REASON_NAMES))
    .addOption(new Option('--ca <ca>', 'the CA that issued it, where the serial alone is ambiguous').choices(CA_NAMES))
    .option('--undo', 'lift the revocation instead')
    .option('--state <dir>', STATE_OPTION_HELP)
    .action(async (opts: RevokeOptions, cmd: Command) => revoke(opts, cmd, io));

  program
    .command('crl')
    .description("Print a CA's certificate revocation list (PEM), as the control plane publishes it (also served at https://<control plane>:<trustd port>/crl/<ca>.crl)")
    .addArgument(new Argument('<ca>', 'the CA: os, kubernetes, etcd or aggregator').choices(CA_NAMES))
    .option('--state <dir>', STATE_OPTION_HELP)
    .action(async (ca: string, opts: { state?: string }, cmd: Command) => printCrl(ca, opts, cmd, io));
}

/** Where revocations are written and CRLs read: a local store (recorded as by `local`) or a node over the API. */
interface RevocationBackend {
  revoke(request: RevokeRequest): Promise<RevokeResult>;
  lift(request: RevokeRequest): Promise<RevocationSpec[]>;
  crl(ca: CaName): Promise<Resource<RevocationListSpec>>;
}

async function revoke(opts: RevokeOptions, cmd: Command, io: CliIo): Promise<void> {
  const flags = splitTalosconfigFlags(rawArgsOf(cmd), 'revoke');
  // Everything the user gave is read and checked before a store is opened or a node is asked.
  const request = await revokeRequest(opts, flags.revoke, io);
  const backend = runsRemotely(cmd, io.env) ? apiRevocations(connectTarget(cmd, flags.connect), io) : storeRevocations(opts.state, io);
  if (opts.undo) {
    for (const r of await backend.lift(request)) io.stdout.write(`lifted the revocation of ${describe(r)}: it is accepted again, and trustd may sign for its names\n`);
    return;
  }
  const result = await backend.revoke(request);
  const r = result.revocation.spec;
  if (!result.changed) {
    io.stdout.write(`${describe(r)} was revoked already (${r.revokedAt} by ${r.revokedBy}: ${JSON.stringify(r.reason)}); nothing changed\n`);
    return;
  }
  io.stdout.write(`revoked ${describe(r)} (${r.reasonCode}: ${JSON.stringify(r.reason)})\n`);
  io.stdout.write(`apid refuses it from its next request; the ${r.ca} CRL lists it until ${r.notAfter} (trustctl crl ${r.ca}); lift it with trustctl revoke --undo --ca ${r.ca} --serial ${r.serial}\n`);
}

async function printCrl(ca: string, opts: { state?: string }, cmd: Command, io: CliIo): Promise<void> {
  const backend = runsRemotely(cmd, io.env) ? apiRevocations(remoteTargetOf(cmd), io) : storeRevocations(opts.state, io);
  io.stdout.write((await backend.crl(ca as CaName)).spec.pem);
}

const describe = (r: RevocationSpec) => `the ${r.ca} certificate serial ${r.serial}${r.subject ? ` ("${r.subject}")` : ''}`;

async function revokeRequest(opts: RevokeOptions, revoked: { talosconfig?: string; context?: string }, place: CliPlace): Promise<RevokeRequest> {
  if (revoked.context !== undefined && revoked.talosconfig === undefined) throw new Error('--context: names a context of the talosconfig to revoke; give that file with --talosconfig FILE after `revoke`');
  const given = [opts.cert && '--cert', opts.serial !== undefined && '--serial', opts.fingerprint !== undefined && '--fingerprint', revoked.talosconfig && '--talosconfig'].filter(Boolean);
  if (given.length !== 1) throw new Error(`give exactly one of --cert FILE, --serial HEX, --fingerprint SHA256 or --talosconfig FILE${given.length ? ` (got ${given.join(' and ')})` : ''}`);
  if (!opts.undo && !opts.reason?.trim()) throw new Error('--reason: say in a few words why, e.g. --reason "laptop stolen" (it is shown to whoever presents the certificate)');
  const selector: RevocationSelector = {
    ...(opts.cert ? { cert: await certificateFile(opts.cert, place) } : {}),
    ...(opts.serial !== undefined ? { serial: opts.serial } : {}),
    ...(opts.fingerprint !== undefined ? { fingerprint: opts.fingerprint } : {}),
    ...(revoked.talosconfig ? { cert: await talosconfigCertificate(revoked.talosconfig, revoked.context, place) } : {}),
    ...(opts.ca ? { ca: opts.ca } : {}),
  };
  return { ...selector, ...(opts.undo ? {} : { reason: opts.reason }), ...(opts.reasonCode && !opts.undo ? { reasonCode: opts.reasonCode } : {}) };
}

async function certificateFile(path: string, place: CliPlace): Promise<string> {
  const { cannotRead } = await import('./input-file.js');
  const { parseCertificatePem } = await import('../pki/index.js');
  let text: string;
  try {
    text = await readFile(inCwd(place, path), 'utf8');
  } catch (err) {
    throw cannotRead('--cert', path, err as NodeJS.ErrnoException);
  }
  // Checked here so the message names the file; the node checks it again (and which CA issued it).
  parseCertificatePem(text, `--cert ${path}`);
  return text;
}

async function talosconfigCertificate(path: string, context: string | undefined, place: CliPlace): Promise<string> {
  const { contextCredentials, readTalosconfigFile, selectContext } = await import('../config/index.js');
  const { parseCertificatePem } = await import('../pki/index.js');
  const config = await readTalosconfigFile(path, inCwd(place, path));
  const { name, context: ctx } = selectContext(config, context || config.context);
  const { crtPem } = contextCredentials(name, ctx);
  if (!crtPem) throw new Error(`--talosconfig ${path}: context "${name}" holds no client certificate: nothing to revoke`);
  parseCertificatePem(crtPem, `--talosconfig ${path}: contexts.${name}.crt`);
  return crtPem;
}

function connectTarget(cmd: Command, connect: { talosconfig?: string; context?: string }): RemoteTarget {
  const { talosconfig: _t, context: _c, ...rest } = remoteTargetOf(cmd);
  return { ...rest, ...(connect.talosconfig ? { talosconfig: connect.talosconfig } : {}), ...(connect.context ? { context: connect.context } : {}) };
}

/** One node: the endpoint, or the first -n; every call its own connection, as a one-shot command makes one call. */
function apiRevocations(target: RemoteTarget, io: CliIo): RevocationBackend {
  const call = async <T>(method: string, path: (paths: ApiPaths) => string, body?: RevokeRequest): Promise<T> => {
    const { connectApi } = await import('./api-client.js');
    const { paths } = await import('../server/apid/index.js');
    const { client, nodes } = await connectApi(target, io);
    try {
      return await client.call<T>(method, path(paths), { ...(body ? { body } : {}), ...(nodes[0] ? { node: nodes[0] } : {}) });
    } finally {
      client.close();
    }
  };
  return {
    revoke: (request) => call<RevokeResult>('POST', (p) => p.revocations, request),
    lift: async (request) => (await call<{ lifted: RevocationSpec[] }>('POST', (p) => p.liftRevocation, request)).lifted,
    crl: async (ca) => {
      const { RevocationLists } = await import('../resources/revocation-lists.js');
      return call<Resource<RevocationListSpec>>('GET', (p) => p.resources(RevocationLists.type, ca));
    },
  };
}

type ApiPaths = typeof apiPaths;

/** --state: writes recorded as by `local (--state DIR)` and in the store's audit trail. */
function storeRevocations(stateFlag: string | undefined, io: CliIo): RevocationBackend {
  const written = async <T>(run: (m: RevocationModule, w: RevocationWriter) => Promise<T>): Promise<T> => {
    const revocation: RevocationModule = await import('../server/revocation/index.js');
    const { systemClock } = await import('../runtime/clock.js');
    const { recordLocally } = await import('./local-audit.js');
    const by = `local (--state ${resolveStateDir(stateFlag, io)})`;
    return withStore(stateFlag, io, false, async (state) => {
      const changes: RevocationEvent[] = [];
      const result = await run(revocation, { state, clock: systemClock, by, onChange: (event) => changes.push(event) });
      for (const event of changes) await recordLocally(state, revocation.revocationAuditEvent(event), io.stderr);
      return result;
    });
  };
  return {
    revoke: (request) => written((m, w) => m.revokeCertificate(request, w)),
    lift: (request) => written((m, w) => m.liftRevocation(request, w)),
    async crl(ca) {
      const { RevocationLists } = await import('../resources/revocation-lists.js');
      const list = await withStore(stateFlag, io, true, (state) => state.find<RevocationListSpec>({ namespace: RevocationLists.namespace, type: RevocationLists.type, id: ca }));
      if (!list) throw new Error(`no CRL of the ${ca} CA in this store: CRLs are published by a node that holds the ${ca} CA key (a control plane) once it has run (trustctl serve)`);
      return list;
    },
  };
}

type RevocationModule = typeof revocationModule;

async function withStore<T>(stateFlag: string | undefined, place: CliPlace, readOnly: boolean, use: (state: State) => Promise<T>): Promise<T> {
  const dir = resolveStateDir(stateFlag, place);
  requireStore(dir);
  const { openNodeState } = await import('../server/node.js');
  const { state } = await openNodeState(dir, undefined, readOnly, place.env);
  try {
    return await use(state);
  } finally {
    await state.close();
  }
}
