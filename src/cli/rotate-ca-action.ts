// The action of `trustctl rotate-ca` (rotate-ca.ts declares the command), loaded only when it runs.
import { formatTalosconfig, issueClientCertificate, newContext, readTalosconfigFile, resolveTalosconfigPath, selectContext, contextCredentials } from '../config/index.js';
import type { PemCertAndKey, SecretsBundle } from '../config/index.js';
import { algorithmOf, createCA, encodePrivateKeyPem, encodePrivateKeyPkcs8Pem, parseCertificatePem, parsePrivateKeyPem } from '../pki/index.js';
import type { CaProfile } from '../pki/index.js';
import { ROTATION_PHASES, hasAcceptedList, phaseIndex } from '../resources/ca-rotation.js';
import type { CARotationSecretsSpec, CARotationSpec, RotatableCA, RotationPhase } from '../resources/ca-rotation.js';
import type { Resource } from '../runtime/resource.js';
import { ETCD_CLIENT_PORT, formatNodeAddress, parseNodeAddress, paths } from '../server/apid/index.js';
import type { RotationRequest } from '../server/apid/index.js';
import { ApiCallError, ApiClient, connectApi } from './api-client.js';
import { inCwd } from './cli-io.js';
import type { CliIo, CliPlace } from './cli-io.js';
import { writeFileAtomic } from './files.js';
import { BUNDLE_FIELD, readBundleForRotation, withRotatedCAs, writeRotatedBundle } from './rotated-bundle.js';
import type { RotateOptions } from './rotate-ca.js';
import type { RemoteTarget } from './api-client.js';
import { withTokenUse } from './pkcs11-use.js';
import type { TokenUse } from './pkcs11-use.js';

const LABEL: Record<RotatableCA, string> = { os: 'Talos API', kubernetes: 'Kubernetes API', etcd: 'etcd', aggregator: 'aggregator (front-proxy)' };
const PROFILE: Record<RotatableCA, CaProfile> = { os: 'os', kubernetes: 'kubernetes', etcd: 'etcd', aggregator: 'aggregator' };
// The machine config has no accepted list for etcd and the aggregator: the overlap goes to each control plane's
// ExtraAcceptedCAs, which its root secrets trust besides the config's CA.
const FIELDS: Record<RotatableCA, [string, string]> = {
  os: ['machine.ca', 'machine.acceptedCAs'],
  kubernetes: ['cluster.ca', 'cluster.acceptedCAs'],
  etcd: ['cluster.etcd.ca', 'ExtraAcceptedCAs/etcd'],
  aggregator: ['cluster.aggregatorCA', 'ExtraAcceptedCAs/aggregator'],
};

/** What an etcd rotation that waits for the members asks of the operator. */
const ETCD_RESTART = 'restart each etcd member, one at a time: etcd reads its trusted CA files only at start-up';

/** What keeps an old talosconfig working through a Talos API CA rotation (CrossSignedCAs). */
const CROSS_SIGNED_NOTE = 'apid sends the new CA cross-signed by the old one, so old talosconfigs work until the old CA is dropped';

/** Where a CA's overlap is written: workers carry no etcd or aggregator CA. */
const WHERE: Record<RotatableCA, string> = {
  os: 'every node (control planes first, then workers)',
  kubernetes: 'every node (control planes first, then workers)',
  etcd: 'every control plane (workers hold no etcd CA)',
  aggregator: 'every control plane (workers hold no aggregator CA)',
};

export async function rotateCa(opts: RotateOptions, target: RemoteTarget, io: CliIo): Promise<void> {
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
  const kinds = Object.keys(rotated) as RotatableCA[];
  if (!kinds.length) return;
  if (!path || !bundle) {
    out(`> ${staleBundleNote(kinds)}`);
    return;
  }
  const backup = await writeRotatedBundle(path, withRotatedCAs(bundle, rotated), inCwd(place, path));
  out(`> Wrote the new ${kinds.map((k) => LABEL[k]).join(', ')} CA${kinds.length > 1 ? 's' : ''} into secrets bundle ${JSON.stringify(path)}; the previous bundle is kept as ${JSON.stringify(backup)}`);
}

function staleBundleNote(kinds: readonly RotatableCA[]): string {
  const fields = kinds.map((k) => `${FIELDS[k][0]} -> certs.${BUNDLE_FIELD[k]}`).join(', ');
  return (
    `the secrets bundle (secrets.yaml) still holds the old ${kinds.map((k) => LABEL[k]).join(', ')} CA: it is now stale, and nodes made from it with ` +
    `gen config --with-secrets cannot join. Pass --with-secrets secrets.yaml to rotate-ca to keep it current; to refresh it by hand, copy ${fields} ` +
    'from a control plane\'s machine config (trustctl get mc v1alpha1 -o yaml)'
  );
}

/**
 * Starts a rotation with a new CA; when one of this CA is already in progress (an earlier run was interrupted), follows
 * that one instead, with the new CA the control plane holds for it.
 */
async function startRotation(client: ApiClient, kind: RotatableCA, osCaPem: string, nodes: Omit<RotationRequest, 'ca' | 'newCA'>, out: (line: string) => void, use: TokenUse): Promise<PemCertAndKey> {
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

async function newCA(kind: RotatableCA, osCaPem: string, use: TokenUse): Promise<PemCertAndKey> {
  // The OS CA keeps its key type (Talos: Ed25519); the others get the default (ECDSA P-256), as gen secrets does.
  const algorithm = kind === 'os' ? algorithmOf(parseCertificatePem(osCaPem, 'talosconfig ca').publicKey) : 'ecdsa';
  // with the PKCS#11 flags the new key is made in the token and the control plane gets its URI
  if (use.newCA) return use.newCA(PROFILE[kind], algorithm, new Date());
  const ca = await createCA(PROFILE[kind], { algorithm });
  return { crt: ca.certPem, key: encodePrivateKeyPem(ca.key) };
}

const STAGE: Record<Exclude<RotationPhase, 'Staged'>, (kind: RotatableCA) => string> = {
  NewCAAccepted: (k) => `> Added the new CA to ${FIELDS[k][1]} on ${WHERE[k]}${k === 'os' ? `; ${CROSS_SIGNED_NOTE}; verified with the new client certificate and the old server CA` : ''}`,
  NewCAIssuing: (k) => `> Made the new CA the issuing CA (${FIELDS[k][0]}), the old one still accepted`,
  LeavesReissued: (k) => `> Every certificate re-issued from the new CA${k === 'os' ? '; verified connectivity with the new PKI' : ''}`,
  OldCADropped: (k) => `> Removed the old CA from ${FIELDS[k][1]}${k === 'os' ? '; verified connectivity with the new PKI again' : ''}`,
  Done: (k) => `> ${LABEL[k]} CA rotation done`,
};

/** Polls the rotation until Done, printing each new phase and each new error (the driver retries on its own). */
async function follow(kind: RotatableCA, clientFor: (phase: RotationPhase | undefined) => ApiClient, out: (line: string) => void, io: CliIo): Promise<void> {
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

function printPlan(out: (line: string) => void, kind: RotatableCA, controlPlanes: string[], workers: string[], endpoint: string, output: string, etcdEndpoints: string[]): void {
  const [ca, accepted] = FIELDS[kind];
  out(`> ${LABEL[kind]} CA rotation on control plane(s) ${controlPlanes.join(', ')}${workers.length ? `, worker(s) ${workers.join(', ')}` : ''}:`);
  out(`>   would generate a new ${kind} CA and start the rotation on ${endpoint}, whose rotation driver would:`);
  out('>   1. verify connectivity with the existing PKI');
  out(`>   2. add the new CA to ${accepted} on ${WHERE[kind]}${kind === 'os' ? `; ${CROSS_SIGNED_NOTE}` : ''}`);
  if (kind === 'os') out('>   3. verify connectivity with the new client certificate and the old server CA');
  // No etcd server or aggregated API server runs here to connect to: the check is what the node trusts and issues.
  else if (kind === 'etcd' && etcdEndpoints.length) out(`>   3. verify every control plane trusts both CAs, and wait until etcd at ${etcdEndpoints.join(', ')} accepts a new-CA client (${ETCD_RESTART})`);
  else out(`>   3. verify every ${hasAcceptedList(kind) ? 'node' : 'control plane'} trusts both CAs${kind === 'kubernetes' ? ' and answers the admin client certificate' : ' (no server of this CA runs here to connect to)'}`);
  out(`>   4. make the new CA issuing (${ca}), the old one still accepted`);
  out('>   5. wait until every certificate is re-issued from the new CA, and verify with the new PKI');
  out(`>   6. remove the old CA from ${accepted}, and verify again${kind === 'etcd' && etcdEndpoints.length ? ` (waiting until etcd refuses an old-CA client: ${ETCD_RESTART} again)` : ''}`);
  if (kind === 'etcd' && !etcdEndpoints.length) out(`>   note: without --etcd-endpoints nothing waits for the etcd members, which read their trusted CA files only at start-up: a member not restarted between steps 2 and 4 refuses the new certificates`);
  if (kind === 'os') out(`>   7. write the new talosconfig to ${JSON.stringify(output)}`);
}
