// Observes every CA and issued certificate on the node and writes one CertificateStatus each; wakes itself at the next
// moment any state can change (renewal time, expiring-soon threshold, expiry) instead of polling.
import { DateTime } from 'luxon';
import { ControllerStatuses } from '../runtime/controller-status.js';
import type { ControllerStatus } from '../runtime/controller-status.js';
import { exclusive, input, requeueAt } from '../runtime/controller.js';
import type { Controller, ReconcileContext } from '../runtime/controller.js';
import { CertificateStatuses } from '../resources/certificate-status.js';
import type { CertificateStatusSpec } from '../resources/certificate-status.js';
import { EtcdRootSecrets, KubernetesRootSecrets, OSRootSecrets } from '../resources/root-secrets.js';
import { ETCD_ROOT_ID } from './etcd-root-secrets-controller.js';
import { K8S_ROOT_ID } from './kubernetes-root-secrets-controller.js';
import { OS_ROOT_ID } from './os-root-secrets-controller.js';
import { certificateState } from './status/certificate-state.js';
import { caVerdict } from './status/ca-verdict.js';
import { chainsTo, describeCertificate } from './status/describe-certificate.js';
import { CA_ISSUERS, ISSUED_SOURCES, STATUS_CONTROLLERS } from './status/status-sources.js';
import { isPkcs11Uri } from '../pki/pkcs11/pkcs11-uri.js';
import type { CaSource, IssuedSource } from './status/status-sources.js';

async function caSources(rt: ReconcileContext): Promise<CaSource[]> {
  const os = await rt.get(OSRootSecrets, OS_ROOT_ID);
  const etcd = await rt.get(EtcdRootSecrets, ETCD_ROOT_ID);
  const k8s = await rt.get(KubernetesRootSecrets, K8S_ROOT_ID);
  const out: CaSource[] = [];
  if (os) out.push({ name: 'os', crt: os.spec.issuingCA.crt, accepted: os.spec.acceptedCAs, key: os.spec.issuingCA.key });
  if (etcd) out.push({ name: 'etcd', crt: etcd.spec.ca.crt, accepted: etcd.spec.acceptedCAs, key: etcd.spec.ca.key });
  if (k8s) {
    out.push({ name: 'kubernetes', crt: k8s.spec.ca.crt, accepted: k8s.spec.acceptedCAs, key: k8s.spec.ca.key });
    out.push({ name: 'aggregator', crt: k8s.spec.aggregatorCA.crt, accepted: k8s.spec.aggregatorAcceptedCAs, key: k8s.spec.aggregatorCA.key });
  }
  return out;
}

interface Entry {
  id: string;
  spec: CertificateStatusSpec;
  nextChange?: Date;
}

function failureFields(status: ControllerStatus | undefined): Pick<CertificateStatusSpec, 'failures' | 'lastFailure' | 'nextRetry'> {
  if (!status || status.failures === 0) return { failures: 0 };
  return {
    failures: status.failures,
    ...(status.lastError ? { lastFailure: status.lastError } : {}),
    ...(status.nextRetry ? { nextRetry: status.nextRetry } : {}),
  };
}

function caEntry(ca: CaSource, now: Date, unreachable: ControllerStatus | undefined): Entry {
  const d = describeCertificate(ca.crt);
  const verdict = caVerdict(ca, d, now);
  const keyLocation = !ca.key ? undefined : isPkcs11Uri(ca.key) ? ('hsm' as const) : ('store' as const);
  const down = keyLocation === 'hsm' ? unreachable : undefined;
  return {
    id: `ca-${ca.name}`,
    nextChange: verdict.nextChange,
    spec: {
      source: { type: 'RootSecrets', id: ca.name, name: 'ca' },
      kind: 'ca',
      issuerCA: ca.name,
      ...d.fields,
      autoRenewed: false,
      state: verdict.state,
      message: down ? `${verdict.message}; its key in the PKCS#11 token cannot sign now: ${down.lastError ?? 'unknown error'}` : verdict.message,
      chainsToAcceptedCA: ca.accepted.includes(ca.crt),
      ...(keyLocation ? { keyLocation } : {}),
      ...failureFields(down),
    },
  };
}

/** The first controller signing with this CA whose last failure came from the token (TokenError, or a URI key without one). */
function tokenFailure(ca: CaSource, statuses: ReadonlyMap<string, ControllerStatus | undefined>): ControllerStatus | undefined {
  return CA_ISSUERS[ca.name].map((name) => statuses.get(name)).find((s) => s && s.failures > 0 && s.lastError?.includes('PKCS#11 token'));
}

export const certificateStatusController: Controller = {
  name: 'CertificateStatusController',
  inputs: [
    input(OSRootSecrets, 'secrets', OS_ROOT_ID),
    input(EtcdRootSecrets, 'secrets', ETCD_ROOT_ID),
    input(KubernetesRootSecrets, 'secrets', K8S_ROOT_ID),
    ...ISSUED_SOURCES.map((s) => input(s.definition, 'secrets', s.id)),
    ...STATUS_CONTROLLERS.map((name) => input(ControllerStatuses, 'runtime', name)),
  ],
  outputs: [exclusive(CertificateStatuses)],

  async reconcile(rt) {
    const now = rt.clock.now().toJSDate();
    const cas = await caSources(rt);
    const statuses = new Map<string, ControllerStatus | undefined>();
    for (const name of STATUS_CONTROLLERS) statuses.set(name, (await rt.get(ControllerStatuses, name, 'runtime'))?.spec);
    const entries: Entry[] = cas.map((ca) => caEntry(ca, now, tokenFailure(ca, statuses)));

    for (const source of ISSUED_SOURCES) {
      const set = await rt.get(source.definition, source.id);
      if (!set) continue;
      const failures = failureFields(statuses.get(source.controller));
      for (const [name, issued] of Object.entries(set.spec.certificates)) {
        const ca = cas.find((c) => c.name === issued.issuer);
        const d = describeCertificate(issued.crt);
        // A worker has no Kubernetes root secrets: its kubelet set carries the CAs it trusts (from the machine config).
        const chain = chainsTo(issued.crt, ca?.accepted ?? set.spec.acceptedCAs);
        const renewalTime = new Date(issued.renewAt);
        const verdict = certificateState({ notBefore: d.notBefore, notAfter: d.notAfter, renewalTime, chainsToAcceptedCA: chain.ok, chainMessage: chain.message, now });
        entries.push({
          id: `${source.id}-${name}`,
          nextChange: verdict.nextChange,
          spec: {
            source: { type: source.definition.type, id: source.id, name },
            kind: 'leaf',
            issuerCA: issued.issuer,
            ...d.fields,
            renewalTime: issued.renewAt,
            autoRenewed: true,
            state: verdict.state,
            message: verdict.message,
            chainsToAcceptedCA: chain.ok,
            lastIssuanceReason: issued.reason,
            ...(issued.reasonMessage ? { lastIssuanceMessage: issued.reasonMessage } : {}),
            nextIssuanceReason: verdict.state === 'Expired' ? 'Expired' : 'Renewing',
            lastRenewal: issued.issuedAt,
            ...failures,
          },
        });
      }
      const { pending } = set.spec;
      for (const name of pending ? (source.awaited?.names ?? []) : []) {
        if (!set.spec.certificates[name]) entries.push(pendingEntry(source, name, pending!, failures));
      }
    }

    // One list instead of a read per status: most reconciles change one or two of them.
    const held = new Map((await rt.list(CertificateStatuses, 'runtime')).map((r) => [r.metadata.id, JSON.stringify(r.spec)]));
    for (const e of entries) {
      if (held.get(e.id) !== JSON.stringify(e.spec)) await rt.modify(CertificateStatuses, e.id, () => e.spec);
    }
    // The list above holds every status there is: destroyOthers (a second list) only when one of them is no longer wanted.
    const wanted = new Set(entries.map((e) => e.id));
    if ([...held.keys()].some((id) => !wanted.has(id))) await rt.destroyOthers(CertificateStatuses, wanted);
    const changes = entries.map((e) => e.nextChange?.getTime()).filter((t): t is number => t !== undefined && t > now.getTime());
    const next = changes.length ? DateTime.fromMillis(Math.min(...changes), { zone: 'utc' }) : undefined;
    return requeueAt(next, `${entries.length} certificates observed`);
  },
};

function pendingEntry(source: IssuedSource, name: string, why: string, failures: Pick<CertificateStatusSpec, 'failures' | 'lastFailure' | 'nextRetry'>): Entry {
  return {
    id: `${source.id}-${name}`,
    spec: {
      source: { type: source.definition.type, id: source.id, name },
      kind: 'leaf',
      issuerCA: source.awaited?.issuer ?? 'os',
      subject: '',
      issuer: '',
      serial: '',
      sha256Fingerprint: '',
      dnsNames: [],
      ipAddresses: [],
      keyAlgorithm: '',
      keySize: 0,
      autoRenewed: true,
      state: 'Pending',
      message: why,
      chainsToAcceptedCA: false,
      nextIssuanceReason: 'DoesNotExist',
      ...failures,
    },
  };
}
