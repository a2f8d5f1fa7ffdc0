// The actions of `trustctl revoke` and `trustctl crl` (revoke.ts declares them), loaded only when they run.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { contextCredentials, readTalosconfigFile, selectContext } from '../config/index.js';
import { parseCertificatePem } from '../pki/index.js';
import type { CaName } from '../resources/common.js';
import { RevocationLists } from '../resources/revocation-lists.js';
import type { RevocationListSpec } from '../resources/revocation-lists.js';
import type { RevocationSpec } from '../resources/revocations.js';
import type { Resource } from '../runtime/resource.js';
import type { State } from '../runtime/state.js';
import { systemClock } from '../runtime/clock.js';
import { paths } from '../server/apid/index.js';
import type * as revocationModule from '../server/revocation/index.js';
import type { RevocationEvent, RevocationSelector, RevocationWriter, RevokeRequest, RevokeResult } from '../server/revocation/index.js';
import { connectApi } from './api-client.js';
import { inCwd } from './cli-io.js';
import type { CliIo, CliPlace } from './cli-io.js';
import type { RemoteTarget } from './api-client.js';
import { cannotRead } from './input-file.js';
import { recordLocally } from './local-audit.js';
import { rawArgsOf, splitTalosconfigFlags } from './revoke-args.js';
import type { RevokeOptions } from './revoke.js';
import { remoteTargetOf, runsRemotely } from './remote-target.js';
import { requireStore, resolveStateDir } from './state-path.js';

export async function revoke(opts: RevokeOptions, cmd: Command, io: CliIo): Promise<void> {
  const flags = splitTalosconfigFlags(rawArgsOf(cmd), 'revoke');
  // Everything the user gave is read and checked before a store is opened or a node is asked.
  const request = await revokeRequest(opts, flags.revoke, io);
  const remote = runsRemotely(cmd, io.env);
  const target = connectTarget(cmd, flags.connect);
  if (opts.undo) {
    const lifted = remote ? await remoteCall<{ lifted: RevocationSpec[] }>(target, paths.liftRevocation, request, io) : { lifted: await locally(opts.state, io, (m, w) => m.liftRevocation(request, w)) };
    for (const r of lifted.lifted) io.stdout.write(`lifted the revocation of ${describe(r)}: it is accepted again, and trustd may sign for its names\n`);
    return;
  }
  const result = remote ? await remoteCall<RevokeResult>(target, paths.revocations, request, io) : await locally(opts.state, io, (m, w) => m.revokeCertificate(request, w));
  const r = result.revocation.spec;
  if (!result.changed) {
    io.stdout.write(`${describe(r)} was revoked already (${r.revokedAt} by ${r.revokedBy}: ${JSON.stringify(r.reason)}); nothing changed\n`);
    return;
  }
  io.stdout.write(`revoked ${describe(r)} (${r.reasonCode}: ${JSON.stringify(r.reason)})\n`);
  io.stdout.write(`apid refuses it from its next request; the ${r.ca} CRL lists it until ${r.notAfter} (trustctl crl ${r.ca}); lift it with trustctl revoke --undo --ca ${r.ca} --serial ${r.serial}\n`);
}

export async function printCrl(ca: string, opts: { state?: string }, cmd: Command, io: CliIo): Promise<void> {
  const id = ca as CaName;
  let list: Resource<RevocationListSpec> | undefined;
  if (runsRemotely(cmd, io.env)) {
    const { client, nodes } = await connectApi(remoteTargetOf(cmd), io);
    try {
      list = await client.call<Resource<RevocationListSpec>>('GET', paths.resources(RevocationLists.type, id), nodes[0] ? { node: nodes[0] } : {});
    } finally {
      client.close();
    }
  } else {
    list = await withStore(opts.state, io, true, (state) => state.find<RevocationListSpec>({ namespace: RevocationLists.namespace, type: RevocationLists.type, id }));
    if (!list) throw new Error(`no CRL of the ${ca} CA in this store: CRLs are published by a node that holds the ${ca} CA key (a control plane) once it has run (trustctl serve)`);
  }
  io.stdout.write(list.spec.pem);
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

async function remoteCall<T>(target: RemoteTarget, path: string, body: RevokeRequest, io: CliIo): Promise<T> {
  const { client, nodes } = await connectApi(target, io);
  try {
    return await client.call<T>('POST', path, { body, ...(nodes[0] ? { node: nodes[0] } : {}) });
  } finally {
    client.close();
  }
}

type RevocationModule = typeof revocationModule;

/** Runs a revocation write on the local store, recorded as by `local (--state DIR)` and in its audit trail. */
async function locally<T>(stateFlag: string | undefined, io: CliIo, run: (m: RevocationModule, w: RevocationWriter) => Promise<T>): Promise<T> {
  const revocation: RevocationModule = await import('../server/revocation/index.js');
  const by = `local (--state ${resolveStateDir(stateFlag, io)})`;
  return withStore(stateFlag, io, false, async (state) => {
    const changes: RevocationEvent[] = [];
    const result = await run(revocation, { state, clock: systemClock, by, onChange: (event) => changes.push(event) });
    for (const event of changes) await recordLocally(state, revocation.revocationAuditEvent(event), io.stderr);
    return result;
  });
}

async function withStore<T>(stateFlag: string | undefined, place: CliPlace, readOnly: boolean, use: (state: State) => Promise<T>): Promise<T> {
  const dir = resolveStateDir(stateFlag, place);
  requireStore(dir);
  const { openNodeState } = await import('../server/node.js');
  const { state } = await openNodeState(dir, undefined, readOnly);
  try {
    return await use(state);
  } finally {
    await state.close();
  }
}
