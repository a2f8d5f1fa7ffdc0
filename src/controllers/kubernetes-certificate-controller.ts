// Issues the control plane's Kubernetes certificates (kube-apiserver, its kubelet client, the front-proxy client,
// controller-manager, scheduler and admin) and writes their kubeconfigs.
import { formatKubeconfig } from '../config/kubeconfig.js';
import { idle, input, exclusive } from '../runtime/controller.js';
import type { Controller } from '../runtime/controller.js';
import type { CertificateRequest, IssuedSet } from '../resources/common.js';
import { KubernetesSecrets } from '../resources/issued-certificates.js';
import { NodeAddresses } from '../resources/node-addresses.js';
import type { NodeAddressesSpec } from '../resources/node-addresses.js';
import { KubernetesRootSecrets } from '../resources/root-secrets.js';
import type { KubernetesRootSecretsSpec } from '../resources/root-secrets.js';
import { writeIssuedSet } from './issuing/write-issued-set.js';
import { issuingWith } from './issuing/issuing-options.js';
import type { IssuingOptions } from './issuing/issuing-options.js';
import { K8S_ROOT_ID } from './kubernetes-root-secrets-controller.js';
import type { CertificateLifetimes } from './lifetimes.js';
import { NODE_ADDRESSES_ID } from './node-addresses-controller.js';
import { splitSans } from './sans.js';
import type { SplitSans } from './sans.js';
import { certificateRequest } from './issuing/certificate-request.js';
import type { CertificatePlan } from './issuing/certificate-request.js';

export const KUBERNETES_SECRETS_ID = 'k8s';

const KUBECONFIGS: Record<string, { cert: string; user: string; local: boolean }> = {
  admin: { cert: 'admin', user: 'admin', local: false },
  'controller-manager': { cert: 'controller-manager', user: 'system:kube-controller-manager', local: true },
  scheduler: { cert: 'scheduler', user: 'system:kube-scheduler', local: true },
};

/** The server each kubeconfig dials: the cluster endpoint, or kube-apiserver's local port for the on-node components. */
export function kubeconfigServers(root: KubernetesRootSecretsSpec): Record<string, string> {
  const local = `https://127.0.0.1:${root.localAPIServerPort}`;
  return Object.fromEntries(Object.entries(KUBECONFIGS).map(([name, k]) => [name, k.local ? local : root.endpoint]));
}

function kubeconfigs(root: KubernetesRootSecretsSpec, certs: IssuedSet): Record<string, string> {
  const out: Record<string, string> = {};
  const servers = kubeconfigServers(root);
  for (const [name, k] of Object.entries(KUBECONFIGS)) {
    const cert = certs[k.cert];
    out[name] = formatKubeconfig({
      clusterName: root.clusterName,
      server: servers[name],
      caPem: root.ca.crt,
      userName: k.user,
      certPem: cert.crt,
      keyPem: cert.key,
    });
  }
  return out;
}

export function kubernetesCertificateController(options: IssuingOptions = {}): Controller {
  const { lifetimes, caKeys, audit, leafKeys } = issuingWith(options);
  return {
    name: 'KubernetesCertificateController',
    inputs: [input(KubernetesRootSecrets, 'secrets', K8S_ROOT_ID), input(NodeAddresses, 'network', NODE_ADDRESSES_ID)],
    outputs: [exclusive(KubernetesSecrets)],

    async reconcile(rt) {
      const root = await rt.get(KubernetesRootSecrets, K8S_ROOT_ID);
      const node = await rt.get(NodeAddresses, NODE_ADDRESSES_ID);
      if (!root) {
        await rt.destroyOthers(KubernetesSecrets, []);
        return idle('no Kubernetes CA on this node');
      }
      if (!node) return idle('waiting for node addresses');
      const ca = caKeys.signingCA(root.spec.ca.crt, root.spec.ca.key, 'cluster.ca');
      const aggregator = caKeys.signingCA(root.spec.aggregatorCA.crt, root.spec.aggregatorCA.key, 'cluster.aggregatorCA');
      const wanted = kubernetesCertificatePlans(lifetimes, root.spec, node.spec).map((plan) => ({
        ...plan,
        ca: plan.issuer === 'aggregator' ? aggregator : ca,
      }));
      return writeIssuedSet(rt, KubernetesSecrets, KUBERNETES_SECRETS_ID, wanted, {
        acceptedCAs: root.spec.acceptedCAs,
        kubeconfigs: (certs) => kubeconfigs(root.spec, certs),
        audit,
        leafKeys,
      });
    },
  };
}

/**
 * The kube-apiserver serving names, after Talos' KubernetesCertSANsController: the endpoint host, cluster.apiServer
 * .certSANs, the four in-cluster `kubernetes` service names ending in cluster.network.dnsDomain, localhost, the node's
 * hostname and addresses, and the first address of every service subnet (both families on a dual-stack cluster).
 * kubeadm differs in two ways and we follow Talos in both: kubeadm puts only the primary (first) service subnet's
 * address in, so IPv6 pods of a dual-stack cluster could not verify the service IP they dial; and kubeadm omits
 * localhost. We add 127.0.0.1 besides, which neither does, because our controller-manager and scheduler kubeconfigs
 * dial https://127.0.0.1:<localAPIServerPort> (Talos' dial localhost) and must verify the certificate there.
 */
export function kubernetesCertificatePlans(lifetimes: CertificateLifetimes, root: KubernetesRootSecretsSpec, node: NodeAddressesSpec): CertificatePlan[] {
  const endpointHost = new URL(root.endpoint).hostname.replace(/^\[|\]$/g, '');
  const apiSans = splitSans([
    ...root.apiServerCertSANs,
    endpointHost,
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    `kubernetes.default.svc.${root.dnsDomain}`,
    'localhost',
    node.hostname,
    ...node.addresses,
    '127.0.0.1',
    ...root.apiServiceIPs,
  ]);
  const req = (profile: string, commonName: string, organizations: string[], sans?: SplitSans) =>
    certificateRequest(profile, commonName, organizations, lifetimes.kubernetesHours, sans);
  const k8s = (name: string, request: CertificateRequest): CertificatePlan => ({ name, request, issuer: 'kubernetes' });
  return [
    k8s('kube-apiserver', req('kube-apiserver', 'kube-apiserver', [], apiSans)),
    k8s('apiserver-kubelet-client', req('apiserver-kubelet-client', 'kube-apiserver-kubelet-client', ['system:masters'])),
    k8s('controller-manager', req('controller-manager', 'system:kube-controller-manager', [])),
    k8s('scheduler', req('scheduler', 'system:kube-scheduler', [])),
    k8s('admin', req('kube-admin', 'admin', ['system:masters'])),
    { name: 'front-proxy-client', issuer: 'aggregator', request: req('front-proxy-client', 'front-proxy-client', []) },
  ];
}
