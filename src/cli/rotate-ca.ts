// `trustctl rotate-ca`: rotates the Talos API (os), Kubernetes, etcd and/or aggregator CAs with no downtime, like
// talosctl's (which rotates only the first two). The new CA is made here; a control plane (the endpoint) records the
// rotation as a CARotation resource and its rotation driver moves every node through the phases, resuming after a
// restart. This command follows the resource, prints a `> ` line per stage (rotation-messages.ts holds the wording),
// and at the end writes a talosconfig whose client certificate comes from the new OS CA. Dry-run (the default) talks
// to no node: it says what would happen. The API client, the CA maker and the messages load only when it runs.
import type { Command } from 'commander';
import type { PemCertAndKey, SecretsBundle } from '../config/index.js';
import type { CaProfile } from '../pki/index.js';
import type { CARotationSecretsSpec, CARotationSpec, RotatableCA, RotationPhase } from '../resources/ca-rotation.js';
import type { Resource } from '../runtime/resource.js';
import type { RotationRequest } from '../server/apid/index.js';
import type { ApiClient, RemoteTarget } from './api-client.js';
import { inCwd } from './cli-io.js';
import type { CliIo, CliPlace } from './cli-io.js';
import { pkcs11Options } from './pkcs11-flags.js';
import type { Pkcs11Flags } from './pkcs11-flags.js';
import type { TokenUse } from './pkcs11-use.js';
import { remoteTargetOf } from './remote-target.js';

export interface RotateOptions extends Pkcs11Flags {
  talos?: boolean;
  kubernetes?: boolean;
  etcd?: boolean;
  aggregator?: boolean;
  dryRun: boolean;
  output: string;
  /** The secrets bundle to rewrite with the rotated CAs at the end (FILE.bak keeps the previous one). */
  withSecrets?: string;
  controlPlaneNodes: string[];
  workerNodes: string[];
  /** etcd members (host[:port]) an etcd rotation waits for at each phase. */
  etcdEndpoints: string[];
}

const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

function bool(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Error(`--dry-run: expected true or false, got ${JSON.stringify(value)}`);
}

export function registerRotateCaCommand(program: Command, io: CliIo): void {
  const rotate = program
    .command('rotate-ca')
    .description('Rotate the Talos API, Kubernetes, etcd and/or aggregator CA across the cluster with no downtime (dry-run unless --dry-run=false)')
    .option('--talos', 'rotate the Talos API (os) CA (default, with --kubernetes, when no CA is named)')
    .option('--kubernetes', 'rotate the Kubernetes CA (cluster.ca, through cluster.acceptedCAs)')
    .option('--etcd', 'rotate the etcd CA (cluster.etcd.ca; control planes trust both through ExtraAcceptedCAs/etcd meanwhile)')
    .option('--aggregator', 'rotate the aggregator CA (cluster.aggregatorCA; control planes trust both through ExtraAcceptedCAs/aggregator meanwhile)')
    .option('--dry-run [bool]', 'print what would be done and change nothing', bool, true)
    .option('-o, --output <path>', 'where to write the new talosconfig (client certificate from the new OS CA)', 'talosconfig')
    .option('--with-secrets <file>', 'the secrets bundle the cluster was generated from: rewritten at the end with the rotated CAs (the previous one kept as FILE.bak), so gen config keeps making nodes that can join')
    .option('--control-plane-nodes <nodes>', 'control-plane apid addresses host[:port] (default: the endpoint)', list, [])
    .option('--worker-nodes <nodes>', 'worker apid addresses host[:port]', list, [])
    .option('--etcd-endpoints <endpoints>', 'with --etcd: the etcd members host[:port] (port 2379 by default); each phase waits until every member trusts what it asks (etcd reads its trusted CA files only at start-up: restart each member when told)', list, [])
    .action((opts: RotateOptions, cmd: Command) => rotateCa(opts, remoteTargetOf(cmd), io));
  // the new CA key is made in this token, which must be the one the control planes sign with (serve's same flags)
  for (const option of pkcs11Options()) rotate.addOption(option);
}

export async function rotateCa(opts: RotateOptions, target: RemoteTarget, io: CliIo): Promise<void> {
  const { contextCredentials, formatTalosconfig, issueClientCertificate, newContext, readTalosconfigFile, resolveTalosconfigPath, selectContext } = await import('../config/index.js');
  const { encodePrivateKeyPkcs8Pem, parseCertificatePem, parsePrivateKeyPem } = await import('../pki/index.js');
  const { ETCD_CLIENT_PORT, formatNodeAddress, parseNodeAddress } = await import('../server/apid/index.js');
  const { ApiClient, connectApi } = await import('./api-client.js');
  const { writeFileAtomic } = await import('./files.js');
  const { readBundleForRotation } = await import('./rotated-bundle.js');
  const { withTokenUse } = await import('./pkcs11-use.js');
  const { LABEL, printPlan, staleBundleNote } = await import('./rotation-messages.js');
  const named: RotatableCA[] = [...(opts.talos ? ['os' as const] : []), ...(opts.kubernetes ? ['kubernetes' as const] : []), ...(opts.etcd ? ['etcd' as const] : []), ...(opts.aggregator ? ['aggregator' as const] : [])];
  // As talosctl: with no CA named, the Talos API and Kubernetes CAs.
  const kinds: RotatableCA[] = named.length ? named : ['os', 'kubernetes'];
  const path = resolveTalosconfigPath(target.talosconfig, io.env);
  const config = await readTalosconfigFile(path, inCwd(io, path));
  const { name, context } = selectContext(config, target.context || config.context);
  const endpoints = target.endpoints?.length ? target.endpoints : context.endpoints;
  if (endpoints.length === 0) throw new Error(`no endpoint: pass -e ENDPOINT or set endpoints in talosconfig context "${name}"`);
  const controlPlanes = (opts.controlPlaneNodes.length ? opts.controlPlaneNodes : [endpoints[0]]).map((n) => formatNodeAddress(parseNodeAddress(n)));
  const workers = opts.workerNodes.map((n) => formatNodeAddress(parseNodeAddress(n)));
  if (opts.etcdEndpoints.length && !kinds.includes('etcd')) throw new Error('--etcd-endpoints: only an etcd CA rotation waits for etcd members; add --etcd or leave it out');
  const etcdEndpoints = opts.etcdEndpoints.map((n) => {
    try {
      return formatNodeAddress(parseNodeAddress(n, ETCD_CLIENT_PORT));
    } catch (err) {
      throw new Error(`--etcd-endpoints: ${(err as Error).message}`);
    }
  });
  const out = (line: string) => io.stdout.write(`${line}\n`);

  if (opts.dryRun) {
    out('> Dry-run mode enabled, no changes will be made to the cluster, re-run with `--dry-run=false` to apply the changes.');
    for (const kind of kinds) printPlan(out, kind, controlPlanes, workers, endpoints[0], opts.output, etcdEndpoints);
    out(opts.withSecrets ? `>   then write the new CAs into ${JSON.stringify(opts.withSecrets)} (the previous bundle kept as ${JSON.stringify(`${opts.withSecrets}.bak`)})` : `>   ${staleBundleNote(kinds)}`);
    return;
  }

  const creds = contextCredentials(name, context);
  // The bundle is checked before anything changes: a wrong or unreadable one stops the command here.
  const bundle = opts.withSecrets ? await readBundleForRotation(opts.withSecrets, creds.caPem, inCwd(io, opts.withSecrets)) : undefined;
  const rotated: Partial<Record<RotatableCA, PemCertAndKey>> = {};
  let current = await connectApi(target, io);
  try {
    await withTokenUse(opts, io, async (use) => {
      for (const kind of kinds) {
        out(`> Starting ${LABEL[kind]} CA rotation, dry-run mode false:`);
        const next = await startRotation(current.client, kind, creds.caPem, { controlPlanes, workers, ...(kind === 'etcd' && etcdEndpoints.length ? { etcdEndpoints } : {}) }, out, use);
        const cert = parseCertificatePem(next.crt, 'new CA');
        out(`> New ${LABEL[kind]} CA: subject ${cert.subject.replace(/\n/g, ',')}, SHA-256 fingerprint ${cert.fingerprint256}, expires ${new Date(cert.validTo).toISOString()}`);
        // From NewCAAccepted on, the new client certificate is accepted everywhere; it trusts both CAs for the servers.
        let later: ApiClient | undefined;
        let newTalos: { caPem: string; crtPem: string; keyPem: string } | undefined;
        if (kind === 'os') {
          const admin = await issueClientCertificate(next, { roles: ['os:admin'], signingCA: (ca) => use.signingCA(ca, 'new CA') });
          newTalos = { caPem: next.crt, crtPem: admin.crt, keyPem: admin.key };
          later = new ApiClient(current.client.endpoint, { ca: `${creds.caPem.trim()}\n${next.crt}`, cert: admin.crt, key: encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(admin.key)) });
        }
        try {
          await follow(kind, (phase) => (later && phase && phase !== 'Staged' ? later : current.client), out, io);
        } finally {
          later?.close();
        }
        if (newTalos) {
          await writeFileAtomic({ path: inCwd(io, opts.output), data: formatTalosconfig({ context: name, contexts: { [name]: newContext(endpoints, newTalos, context.nodes) } }), mode: 0o600 });
          out(`> Writing new talosconfig to ${JSON.stringify(opts.output)}`);
          current.client.close();
          current = { ...current, client: new ApiClient(current.client.endpoint, { ca: newTalos.caPem, cert: newTalos.crtPem, key: encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(newTalos.keyPem)) }) };
        }
        rotated[kind] = next;
      }
    }, false);
  } finally {
    current.client.close();
    await refreshBundle(opts.withSecrets, bundle, rotated, out, io);
  }
}

/** Writes the CAs whose rotation finished into the bundle, in one step, or says the bundle is stale and how to refresh it. */
async function refreshBundle(path: string | undefined, bundle: SecretsBundle | undefined, rotated: Partial<Record<RotatableCA, PemCertAndKey>>, out: (line: string) => void, place: CliPlace): Promise<void> {
  const { withRotatedCAs, writeRotatedBundle } = await import('./rotated-bundle.js');
  const { LABEL, staleBundleNote } = await import('./rotation-messages.js');
  const kinds = Object.keys(rotated) as RotatableCA[];
  if (!kinds.length) return;
  if (!path || !bundle) {
    out(`> ${staleBundleNote(kinds)}`);
    return;
  }
  const backup = await writeRotatedBundle(path, withRotatedCAs(bundle, rotated), inCwd(place, path));
  out(`> Wrote the new ${kinds.map((k) => LABEL[k]).join(', ')} CA${kinds.length > 1 ? 's' : ''} into secrets bundle ${JSON.stringify(path)}; the previous bundle is kept as ${JSON.stringify(backup)}`);
}

/**
 * Starts a rotation with a new CA; when one of this CA is already in progress (an earlier run was interrupted), follows
 * that one instead, with the new CA the control plane holds for it.
 */
async function startRotation(client: ApiClient, kind: RotatableCA, osCaPem: string, nodes: Omit<RotationRequest, 'ca' | 'newCA'>, out: (line: string) => void, use: TokenUse): Promise<PemCertAndKey> {
  const { paths } = await import('../server/apid/index.js');
  const { ApiCallError } = await import('./api-client.js');
  const { LABEL } = await import('./rotation-messages.js');
  const next = await newCA(kind, osCaPem, use);
  const request: RotationRequest = { ca: kind, newCA: next, ...nodes };
  try {
    await client.call<Resource<CARotationSpec>>('POST', paths.caRotations, { body: request });
    return next;
  } catch (err) {
    if (!(err instanceof ApiCallError && err.status === 409 && err.message.includes('in progress'))) throw err;
  }
  const held = await client.call<Resource<CARotationSecretsSpec>>('GET', paths.resources('CARotationSecrets', kind)).catch((err: unknown) => {
    throw new Error(`a rotation of the ${kind} CA is in progress, but its new CA cannot be read (${(err as Error).message}); follow it with \`trustctl get carotation -w\``);
  });
  out(`> Resuming the ${LABEL[kind]} CA rotation in progress`);
  return held.spec.newCA;
}

const PROFILE: Record<RotatableCA, CaProfile> = { os: 'os', kubernetes: 'kubernetes', etcd: 'etcd', aggregator: 'aggregator' };

async function newCA(kind: RotatableCA, osCaPem: string, use: TokenUse): Promise<PemCertAndKey> {
  const { algorithmOf, createCA, encodePrivateKeyPem, parseCertificatePem } = await import('../pki/index.js');
  // The OS CA keeps its key type (Talos: Ed25519); the others get the default (ECDSA P-256), as gen secrets does.
  const algorithm = kind === 'os' ? algorithmOf(parseCertificatePem(osCaPem, 'talosconfig ca').publicKey) : 'ecdsa';
  // with the PKCS#11 flags the new key is made in the token and the control plane gets its URI
  if (use.newCA) return use.newCA(PROFILE[kind], algorithm, new Date());
  const ca = await createCA(PROFILE[kind], { algorithm });
  return { crt: ca.certPem, key: encodePrivateKeyPem(ca.key) };
}

/** Polls the rotation until Done, printing each new phase and each new error (the driver retries on its own). */
async function follow(kind: RotatableCA, clientFor: (phase: RotationPhase | undefined) => ApiClient, out: (line: string) => void, io: CliIo): Promise<void> {
  const { ROTATION_PHASES, phaseIndex } = await import('../resources/ca-rotation.js');
  const { paths } = await import('../server/apid/index.js');
  const { STAGE } = await import('./rotation-messages.js');
  let phase: RotationPhase | undefined;
  let lastError: string | undefined;
  out('> Verifying connectivity with existing PKI');
  for (;;) {
    let spec: CARotationSpec | undefined;
    try {
      spec = (await clientFor(phase).call<Resource<CARotationSpec>>('GET', paths.resources('CARotations', kind))).spec;
    } catch {
      // The control plane may be restarting; the rotation resumes there and so does this.
    }
    // Phases can pass between two looks: each one is still said, in order.
    if (spec && spec.phase !== phase) {
      for (const passed of ROTATION_PHASES.slice(phase ? phaseIndex(phase) + 1 : 0, phaseIndex(spec.phase) + 1)) if (passed !== 'Staged') out(STAGE[passed](kind));
      phase = spec.phase;
    }
    if (spec?.lastError && spec.lastError !== lastError) io.stderr.write(`  waiting: ${spec.lastError}\n`);
    lastError = spec?.lastError;
    if (phase === 'Done') return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

