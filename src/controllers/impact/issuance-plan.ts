// What the issuing controllers would want for one machine config and node: every issued set with its certificates'
// requests, the CA each is signed by and the CAs the set trusts. Built from the controllers' own plan functions.
import type { MachineConfig } from '../../config/machine-config.js';
import type { CaName } from '../../resources/common.js';
import { ApiCertificates, EtcdSecrets, KubernetesSecrets, TrustdCertificates } from '../../resources/issued-certificates.js';
import type { NodeAddressesSpec } from '../../resources/node-addresses.js';
import { apiCertificatePlans } from '../api-certificate-controller.js';
import { certSANsSpec } from '../cert-sans-controller.js';
import { etcdCertificatePlans } from '../etcd-certificate-controller.js';
import { etcdRootSecretsSpec } from '../etcd-root-secrets-controller.js';
import type { CertificatePlan } from '../issuing/certificate-request.js';
import { kubernetesCertificatePlans } from '../kubernetes-certificate-controller.js';
import { kubernetesRootSecretsSpec } from '../kubernetes-root-secrets-controller.js';
import type { CertificateLifetimes } from '../lifetimes.js';
import { osRootSecretsSpec } from '../os-root-secrets-controller.js';
import { trustdCertificatePlans } from '../trustd-certificate-controller.js';

export interface IssuedSetPlan {
  /** The resource type that holds the set: ApiCertificates, TrustdCertificates, EtcdSecrets, KubernetesSecrets. */
  type: string;
  certificates: CertificatePlan[];
  acceptedCAs: string[];
}

export interface IssuancePlan {
  /** The certificate (PEM) of every CA the node issues from. */
  cas: Partial<Record<CaName, string>>;
  sets: IssuedSetPlan[];
}

export function issuancePlan(config: MachineConfig, node: NodeAddressesSpec, lifetimes: CertificateLifetimes): IssuancePlan {
  const plan: IssuancePlan = { cas: {}, sets: [] };
  const os = osRootSecretsSpec(config);
  // Workers receive their apid certificate from trustd and run no trustd, so nothing is issued here for the OS CA.
  if (os.machineType !== 'worker') {
    const sans = certSANsSpec(os, node);
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
    plan.sets.push({ type: KubernetesSecrets.type, certificates: kubernetesCertificatePlans(lifetimes, k8s, node), acceptedCAs: k8s.acceptedCAs });
  }
  return plan;
}
