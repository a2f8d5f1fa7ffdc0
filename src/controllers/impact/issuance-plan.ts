// What the issuing controllers would want for one machine config and node: every issued set with its certificates'
// requests, the CA each is signed by and the CAs the set trusts. Built from the controllers' own plan functions.
import type { MachineConfig } from '../../config/machine-config.js';
import type { CaName } from '../../resources/common.js';
import { ApiCertificates, EtcdSecrets, KubeletCertificates, KubernetesSecrets, TrustdCertificates } from '../../resources/issued-certificates.js';
import type { NodeAddressesSpec } from '../../resources/node-addresses.js';
import { apiCertificatePlans } from '../api-certificate-controller.js';
import { certSANsSpec } from '../cert-sans-controller.js';
import { etcdCertificatePlans } from '../etcd-certificate-controller.js';
import { etcdRootSecretsSpec } from '../etcd-root-secrets-controller.js';
import type { CertificatePlan } from '../issuing/certificate-request.js';
import { kubeletCertificatePlans } from '../kubelet-certificate-controller.js';
import { kubeconfigServers, kubernetesCertificatePlans } from '../kubernetes-certificate-controller.js';
import { kubernetesRootSecretsSpec } from '../kubernetes-root-secrets-controller.js';
import type { CertificateLifetimes } from '../lifetimes.js';
import { osRootSecretsSpec } from '../os-root-secrets-controller.js';
import { trustdCertificatePlans } from '../trustd-certificate-controller.js';

export interface IssuedSetPlan {
  /** The resource type that holds the set: ApiCertificates, TrustdCertificates, EtcdSecrets, KubernetesSecrets. */
  type: string;
  certificates: CertificatePlan[];
  acceptedCAs: string[];
  /**
   * A worker's apid certificate comes from trustd, signed by a control plane's OS CA; the worker asks again when its
   * names change or when the CA that signed it is no longer accepted (src/server/trustd-client/request-policy.ts).
   */
  fromTrustd?: boolean;
  /** KubernetesSecrets: the server each kubeconfig dials (a change rewrites the kubeconfig, no certificate). */
  kubeconfigServers?: Record<string, string>;
}

export interface IssuancePlan {
  /** The certificate (PEM) of every CA the node issues from. */
  cas: Partial<Record<CaName, string>>;
  /** On a worker: the OS CA its trustd-issued certificate is signed by (machine.ca.crt). */
  trustdCA?: string;
  sets: IssuedSetPlan[];
}

export function issuancePlan(config: MachineConfig, node: NodeAddressesSpec, lifetimes: CertificateLifetimes): IssuancePlan {
  const plan: IssuancePlan = { cas: {}, sets: [] };
  const os = osRootSecretsSpec(config);
  const sans = certSANsSpec(os, node);
  if (os.machineType === 'worker') {
    // No trustd and no OS CA key on a worker: its apid server certificate is requested from a control plane.
    plan.trustdCA = os.issuingCA.crt;
    const server = apiCertificatePlans(lifetimes, sans).filter((c) => c.name === 'server');
    plan.sets.push({ type: ApiCertificates.type, certificates: server, acceptedCAs: os.acceptedCAs, fromTrustd: true });
  } else {
    plan.cas.os = os.issuingCA.crt;
    plan.sets.push({ type: ApiCertificates.type, certificates: apiCertificatePlans(lifetimes, sans), acceptedCAs: os.acceptedCAs });
    plan.sets.push({ type: TrustdCertificates.type, certificates: trustdCertificatePlans(lifetimes, sans), acceptedCAs: os.acceptedCAs });
  }
  const etcd = etcdRootSecretsSpec(config);
  if (etcd) {
    plan.cas.etcd = etcd.ca.crt;
    plan.sets.push({ type: EtcdSecrets.type, certificates: etcdCertificatePlans(lifetimes, node), acceptedCAs: [etcd.ca.crt] });
  }
  const k8s = kubernetesRootSecretsSpec(config);
  if (k8s) {
    plan.cas.kubernetes = k8s.ca.crt;
    plan.cas.aggregator = k8s.aggregatorCA.crt;
    plan.sets.push({
      type: KubernetesSecrets.type,
      certificates: kubernetesCertificatePlans(lifetimes, k8s, node),
      acceptedCAs: k8s.acceptedCAs,
      kubeconfigServers: kubeconfigServers(k8s),
    });
    plan.sets.push({ type: KubeletCertificates.type, certificates: kubeletCertificatePlans(lifetimes, node), acceptedCAs: k8s.acceptedCAs });
  }
  return plan;
}
