// Gives every node its kubelet client certificate (CN=system:node:<node>, O=system:nodes, clientAuth) and serving
// certificate (the node's hostname and addresses, serverAuth). A control plane issues both from its Kubernetes CA; a
// worker holds no Kubernetes CA key, so its kubelet CSR client (src/server) asks a control plane's trustd and writes the
// answers to KubeletResponses, and this controller installs each one that checks out. The node name is the hostname,
// as Talos registers nodes.
import { parseCertificate } from './certificate-cache.js';
import { idle, input, exclusive } from '../runtime/controller.js';
import type { Controller, ReconcileContext, ReconcileResult } from '../runtime/controller.js';
import { inspectCertificate, parsePrivateKeyPem, samePublicKey, verifyChain } from '../pki/index.js';
import type { CertificateRequest, IssuedCertificate, IssuedSet } from '../resources/common.js';
import { KubeletCertificates } from '../resources/issued-certificates.js';
import { KUBELET_RESPONSE_ID, KubeletResponses } from '../resources/kubelet-response.js';
import type { KubeletAnswer, KubeletKind } from '../resources/kubelet-response.js';
import { MACHINE_CONFIG_ID, MachineConfigs, machineConfigOf } from '../resources/machine-config.js';
import { NodeAddresses } from '../resources/node-addresses.js';
import type { NodeAddressesSpec } from '../resources/node-addresses.js';
import { KubernetesRootSecrets } from '../resources/root-secrets.js';
import { certificateRequest } from './issuing/certificate-request.js';
import type { CertificatePlan } from './issuing/certificate-request.js';
import { writeIssuedSet } from './issuing/write-issued-set.js';
import { issuingWith } from './issuing/issuing-options.js';
import type { IssuingOptions } from './issuing/issuing-options.js';
import { K8S_ROOT_ID } from './kubernetes-root-secrets-controller.js';
import type { CertificateLifetimes } from './lifetimes.js';
import { NODE_ADDRESSES_ID } from './node-addresses-controller.js';
import { splitSans, uniqueList } from './sans.js';

export const KUBELET_CERTIFICATES_ID = 'kubelet';
export const KUBELET_NODE_PREFIX = 'system:node:';
export const KUBELET_NODES_GROUP = 'system:nodes';

export function kubeletCertificateController(options: IssuingOptions = {}): Controller {
  const { lifetimes, caKeys, audit, leafKeys } = issuingWith(options);
  return {
    name: 'KubeletCertificateController',
    inputs: [
      input(KubernetesRootSecrets, 'secrets', K8S_ROOT_ID),
      input(NodeAddresses, 'network', NODE_ADDRESSES_ID),
      input(MachineConfigs, 'config', MACHINE_CONFIG_ID),
      input(KubeletResponses, 'secrets', KUBELET_RESPONSE_ID),
    ],
    outputs: [exclusive(KubeletCertificates)],

    async reconcile(rt) {
      const node = await rt.get(NodeAddresses, NODE_ADDRESSES_ID);
      if (!node) return idle('waiting for node addresses');
      const root = await rt.get(KubernetesRootSecrets, K8S_ROOT_ID);
      if (root) {
        const ca = caKeys.signingCA(root.spec.ca.crt, root.spec.ca.key, 'cluster.ca');
        const wanted = kubeletCertificatePlans(lifetimes, node.spec).map((plan) => ({ ...plan, ca }));
        return writeIssuedSet(rt, KubeletCertificates, KUBELET_CERTIFICATES_ID, wanted, { acceptedCAs: root.spec.acceptedCAs, audit, leafKeys });
      }
      const mc = await rt.get(MachineConfigs, MACHINE_CONFIG_ID);
      const config = mc && machineConfigOf(mc);
      const k8sCA = config?.type === 'worker' ? config.kubernetesCA?.crt : undefined;
      if (!config || !k8sCA) {
        await rt.destroyOthers(KubeletCertificates, []);
        return idle(config ? 'no Kubernetes CA in the machine config' : 'waiting for a machine config');
      }
      return installAnswers(rt, lifetimes, node.spec, uniqueList([...config.kubernetesAcceptedCAs, k8sCA]));
    },
  };
}

/** The two kubelet certificates of a node: what a control plane issues and what a worker's CSRs ask for. */
export function kubeletCertificatePlans(lifetimes: CertificateLifetimes, node: NodeAddressesSpec): CertificatePlan[] {
  const commonName = `${KUBELET_NODE_PREFIX}${node.hostname}`;
  const hours = lifetimes.kubernetesHours;
  return [
    { name: 'client', issuer: 'kubernetes', request: certificateRequest('kubelet', commonName, [KUBELET_NODES_GROUP], hours) },
    {
      name: 'server',
      issuer: 'kubernetes',
      request: certificateRequest('kubelet-server', commonName, [KUBELET_NODES_GROUP], hours, splitSans([node.hostname, ...node.addresses])),
    },
  ];
}

/** The worker branch: install each answer trustd gave that fits the current request, keep what is held otherwise. */
async function installAnswers(rt: ReconcileContext, lifetimes: CertificateLifetimes, node: NodeAddressesSpec, acceptedCAs: string[]): Promise<ReconcileResult> {
  const answers = (await rt.get(KubeletResponses, KUBELET_RESPONSE_ID))?.spec;
  const held = (await rt.get(KubeletCertificates, KUBELET_CERTIFICATES_ID))?.spec.certificates ?? {};
  const now = rt.clock.now().toJSDate();
  const certificates: IssuedSet = {};
  const waiting: string[] = [];
  for (const plan of kubeletCertificatePlans(lifetimes, node)) {
    const kind = plan.name as KubeletKind;
    const answer = answers?.[kind];
    const problem = answer ? kubeletAnswerProblem(kind, answer, plan.request, acceptedCAs, now) : 'not received yet';
    const cert = answer && !problem ? installed(answer, held[kind]) : held[kind];
    if (cert) certificates[kind] = cert;
    if (problem) waiting.push(`${kind}: ${problem}`);
  }
  const failure = answers?.failure ? `; last attempt failed: ${answers.failure.message} (next retry ${answers.failure.nextRetry})` : '';
  const pending = waiting.length ? `waiting for trustd: ${waiting.join('; ')}${failure}` : undefined;
  await rt.modify(KubeletCertificates, KUBELET_CERTIFICATES_ID, () => ({ certificates, acceptedCAs, ...(pending ? { pending } : {}) }));
  return idle(pending ?? 'up to date (from trustd)');
}

function installed(answer: KubeletAnswer, held: IssuedCertificate | undefined): IssuedCertificate {
  if (held?.crt === answer.crt && held.key === answer.key) return held;
  return { crt: answer.crt, key: answer.key, issuer: 'kubernetes', request: answer.request, issuedAt: answer.requestedAt, renewAt: answer.renewAt, reason: answer.reason };
}

const sameSet = (a: readonly string[], b: readonly string[]) => [...new Set(a)].sort().join(',') === [...new Set(b)].sort().join(',');
const PURPOSE: Record<KubeletKind, 'clientAuth' | 'serverAuth'> = { client: 'clientAuth', server: 'serverAuth' };

/**
 * Why a certificate trustd returned must not be installed as this kubelet's, or undefined when it may: the key must
 * match, it must chain to an accepted Kubernetes CA for its usage now, and carry the subject and names asked for. The
 * kubelet CSR client checks the same before it stores an answer. Answers for an older request (the node's names
 * changed since) do not fit either.
 */
export function kubeletAnswerProblem(kind: KubeletKind, answer: Pick<KubeletAnswer, 'crt' | 'key'>, wanted: CertificateRequest, acceptedCAs: readonly string[], now: Date): string | undefined {
  try {
    const cert = parseCertificate(answer.crt);
    if (!samePublicKey(cert.publicKey, parsePrivateKeyPem(answer.key).publicKey)) return 'the private key does not match the certificate';
    const chain = verifyChain(cert, acceptedCAs.map(parseCertificate), { at: now, purpose: PURPOSE[kind] });
    if (!chain.ok) return `it does not chain to an accepted Kubernetes CA: ${chain.message}`;
    const info = inspectCertificate(cert);
    if (info.isCA) return 'it is a CA certificate';
    if (info.subject.commonName !== wanted.commonName) return `its CN is ${info.subject.commonName || '(none)'}, not ${wanted.commonName}`;
    if (!sameSet(info.subject.organizations, wanted.organizations)) return `its O is ${info.subject.organizations.join(',')}, not ${wanted.organizations.join(',')}`;
    if (!sameSet(info.ipAddresses, wanted.ipAddresses) || !sameSet(info.dnsNames, wanted.dnsNames)) {
      return `its SANs (${[...info.dnsNames, ...info.ipAddresses].join(',') || 'none'}) differ from the node's (${[...wanted.dnsNames, ...wanted.ipAddresses].join(',') || 'none'})`;
    }
    return undefined;
  } catch (err) {
    return `it cannot be read: ${err instanceof Error ? err.message : String(err)}`;
  }
}
