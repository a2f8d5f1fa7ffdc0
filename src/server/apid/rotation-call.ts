// POST /v1/carotations (os:admin): starts a CA rotation on this control plane. The new CA (made by the caller) is
// checked, its key goes to the sensitive CARotationSecrets with the current CA, and the CARotation resource is created
// in phase Staged for the rotation driver to move on; both in one batch, so a refusal leaves nothing behind.
import { X509Certificate } from 'node:crypto';
import type { AuditSink } from '../../controllers/audit/index.js';
import type { CaKeys } from '../../config/ca-keys.js';
import { PkiError, crossSignCAAsync } from '../../pki/index.js';
import type { SigningCA } from '../../pki/index.js';
import { TokenError } from '../../pki/pkcs11/token-error.js';
import { CARotationSecrets, CARotations, ROTATABLE_CAS, ROTATION_DRIVER_OWNER } from '../../resources/ca-rotation.js';
import type { CARotationSecretsSpec, CARotationSpec, RotatableCA } from '../../resources/ca-rotation.js';
import { EtcdRootSecrets, KubernetesRootSecrets } from '../../resources/root-secrets.js';
import type { EtcdRootSecretsSpec, KubernetesRootSecretsSpec, OSRootSecretsSpec } from '../../resources/root-secrets.js';
import type { Clock } from '../../runtime/clock.js';
import type { Pointer, Resource } from '../../runtime/resource.js';
import type { BatchOp, State } from '../../runtime/state.js';
import { ApiError } from './api-error.js';
import type { RotationRequest } from './api-paths.js';
import { ETCD_CLIENT_PORT, formatNodeAddress, parseNodeAddress } from './node-address.js';
import { readJsonBody, requirePermission } from './router.js';
import { callActor, callSource } from './call-actor.js';
import type { CallContext } from './router.js';
import { OS_ROOT } from './tls-material.js';

const K8S_ROOT: Pointer = { namespace: KubernetesRootSecrets.namespace, type: KubernetesRootSecrets.type, id: 'k8s' };
const ETCD_ROOT: Pointer = { namespace: EtcdRootSecrets.namespace, type: EtcdRootSecrets.type, id: 'etcd' };

export function rotationCall(state: State, clock: Clock, caKeys: CaKeys, audit: AuditSink) {
  return async (ctx: CallContext): Promise<Resource<CARotationSpec>> => {
    requirePermission(ctx, 'admin');
    const body = await readJsonBody<Partial<RotationRequest>>(ctx.req);
    const ca = body.ca as RotatableCA;
    if (!ROTATABLE_CAS.includes(ca)) throw new ApiError(400, `ca: expected one of ${ROTATABLE_CAS.join(', ')}, got ${JSON.stringify(body.ca)}`);
    const controlPlanes = addressList(body.controlPlanes, 'controlPlanes');
    const workers = addressList(body.workers ?? [], 'workers');
    if (controlPlanes.length === 0) throw new ApiError(400, 'controlPlanes: expected at least one control plane address (host:port)');
    const etcdEndpoints = body.etcdEndpoints === undefined ? [] : endpointList(ca, body.etcdEndpoints);
    if (typeof body.newCA?.crt !== 'string' || typeof body.newCA.key !== 'string') throw new ApiError(400, 'newCA: expected {crt, key} in PEM');
    let next;
    try {
      // a pkcs11: URI key: the new CA was made in this node's token (trustctl rotate-ca with the PKCS#11 flags)
      next = caKeys.signingCA(body.newCA.crt, body.newCA.key, 'newCA');
    } catch (err) {
      if (err instanceof TokenError) throw new ApiError(503, `newCA: ${err.message}`);
      throw new ApiError(400, `newCA: ${(err as Error).message}`);
    }
    const old = await currentCA(state, ca);
    if (old.crt.trim() === next.certPem.trim()) throw new ApiError(400, 'newCA: is the CA in use already; generate a new one');
    const rotationAt: Pointer = { namespace: CARotations.namespace, type: CARotations.type, id: ca };
    const existing = await state.find<CARotationSpec>(rotationAt);
    if (existing && existing.spec.phase !== 'Done')
      throw new ApiError(409, `a rotation of the ${ca} CA is in progress (phase ${existing.spec.phase}): wait for it to finish (trustctl get carotation -w)`);
    const now = clock.now().toUTC().toISO()!;
    const oldCert = new X509Certificate(old.crt);
    const spec: CARotationSpec = {
      ca,
      phase: 'Staged',
      nodes: [...controlPlanes.map((address) => ({ address, role: 'controlplane' as const, phase: 'Staged' as const })), ...workers.map((address) => ({ address, role: 'worker' as const, phase: 'Staged' as const }))],
      newCA: { subject: next.cert.subject.replace(/\n/g, ','), fingerprint: next.cert.fingerprint256, notAfter: new Date(next.cert.validTo).toISOString() },
      // Upstream's aggregator CA has an empty subject (node reports it as undefined).
      oldCA: { subject: (oldCert.subject ?? '').replace(/\n/g, ','), fingerprint: oldCert.fingerprint256 },
      ...(etcdEndpoints.length ? { etcdEndpoints } : {}),
      started: now,
      updated: now,
    };
    // The Talos API overlap also needs the new CA vouched for by the old one: apid sends it after a new-CA certificate,
    // so a client that trusts only the old CA (an old talosconfig) keeps working until the old CA is dropped.
    const crossSigned = ca === 'os' ? await crossSignedFor(next.cert, () => caKeys.signingCA(old.crt, old.key, 'machine.ca')) : {};
    const secrets: CARotationSecretsSpec = { oldCA: old, newCA: { crt: next.certPem, key: body.newCA.key }, ...crossSigned };
    const secretsAt: Pointer = { namespace: CARotationSecrets.namespace, type: CARotationSecrets.type, id: ca };
    const heldSecrets = await state.find<CARotationSecretsSpec>(secretsAt);
    const owner = ROTATION_DRIVER_OWNER;
    const ops: BatchOp[] = [
      heldSecrets ? { op: 'update', resource: { ...heldSecrets, spec: secrets }, owner } : { op: 'create', resource: { metadata: secretsAt, spec: secrets }, owner },
      existing ? { op: 'update', resource: { ...existing, spec }, owner } : { op: 'create', resource: { metadata: rotationAt, spec }, owner },
    ];
    const written = await state.batch(ops);
    void audit.record({ actor: callActor(ctx), source: callSource(ctx), action: 'ca-rotation-phase', details: { ca, phase: spec.phase, newCASerial: next.cert.serialNumber.toUpperCase() } });
    return written[1] as Resource<CARotationSpec>;
  };
}

/**
 * The new CA cross-signed by the old one, or nothing when the two CAs are never valid at the same time (an old CA at
 * its very end): the rotation still runs, old talosconfigs just stop at the switch of issuer as without it.
 */
async function crossSignedFor(next: X509Certificate, old: () => SigningCA): Promise<{ crossSigned?: string }> {
  try {
    return { crossSigned: (await crossSignCAAsync(next, old())).certPem };
  } catch (err) {
    if (err instanceof PkiError) return {};
    throw err;
  }
}

/** The CA the rotation replaces, with its key: only a control plane holds it. */
async function currentCA(state: State, ca: RotatableCA): Promise<{ crt: string; key: string }> {
  const pair =
    ca === 'os'
      ? (await state.find<OSRootSecretsSpec>(OS_ROOT))?.spec.issuingCA
      : ca === 'etcd'
        ? (await state.find<EtcdRootSecretsSpec>(ETCD_ROOT))?.spec.ca
        : (await state.find<KubernetesRootSecretsSpec>(K8S_ROOT))?.spec[ca === 'kubernetes' ? 'ca' : 'aggregatorCA'];
  if (!pair?.key) throw new ApiError(409, `this node holds no ${ca} CA key (workers only have the certificate): start the rotation on a control plane node`);
  return { crt: pair.crt, key: pair.key };
}

/**
 * A list of host[:port] addresses, each checked as the driver will dial it and listed once. With `defaultPort` each is
 * stored normalised to host:port (so "10.5.0.2" and "10.5.0.2:2379" are the same member); without, as given (trimmed).
 */
function addressList(value: unknown, field: string, defaultPort?: number): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !v.trim())) throw new ApiError(400, `${field}: expected a list of node addresses (host:port)`);
  // the rotation driver dials these, and apid forwards to them as known nodes: one that cannot be dialled is refused now
  const list = (value as string[]).map((v, i) => {
    const address = v.trim();
    try {
      const parsed = parseNodeAddress(address, defaultPort);
      return defaultPort === undefined ? address : formatNodeAddress(parsed);
    } catch (err) {
      throw new ApiError(400, `${field}[${i}]: ${(err as Error).message}`);
    }
  });
  const seen = new Set<string>();
  for (const address of list) {
    if (seen.has(address)) throw new ApiError(400, `${field}: ${address} is listed twice`);
    seen.add(address);
  }
  return list;
}

/** The etcd members an etcd rotation waits for, as host:port (etcd's client port when none is given). */
function endpointList(ca: RotatableCA, value: unknown): string[] {
  if (ca !== 'etcd') throw new ApiError(400, `etcdEndpoints: only an etcd rotation waits for etcd members, this one rotates the ${ca} CA; leave it out`);
  return addressList(value, 'etcdEndpoints', ETCD_CLIENT_PORT);
}
