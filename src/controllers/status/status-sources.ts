// Where certificates live on a node: the root secrets (CAs) and the issued sets (leaves), with who issues each set,
// so the status controller can read them all and attribute failures to the controller that failed.
import type { ResourceDefinition } from '../../runtime/resource.js';
import type { CaName } from '../../resources/common.js';
import type { IssuedCertificatesSpec } from '../../resources/issued-certificates.js';
import { ApiCertificates, EtcdSecrets, KubeletCertificates, KubernetesSecrets, TrustdCertificates } from '../../resources/issued-certificates.js';
import { API_CERTIFICATES_ID } from '../api-certificate-controller.js';
import { ETCD_SECRETS_ID } from '../etcd-certificate-controller.js';
import { KUBELET_CERTIFICATES_ID } from '../kubelet-certificate-controller.js';
import { KUBERNETES_SECRETS_ID } from '../kubernetes-certificate-controller.js';
import { TRUSTD_CERTIFICATES_ID } from '../trustd-certificate-controller.js';

export interface IssuedSource {
  definition: ResourceDefinition<IssuedCertificatesSpec>;
  id: string;
  controller: string;
  /** On a worker the set is filled from trustd: these certificates show as Pending (with the set's reason) until then. */
  awaited?: { names: readonly string[]; issuer: CaName };
}

export const ISSUED_SOURCES: readonly IssuedSource[] = [
  { definition: ApiCertificates, id: API_CERTIFICATES_ID, controller: 'ApiCertificateController', awaited: { names: ['server'], issuer: 'os' } },
  { definition: TrustdCertificates, id: TRUSTD_CERTIFICATES_ID, controller: 'TrustdCertificateController' },
  { definition: EtcdSecrets, id: ETCD_SECRETS_ID, controller: 'EtcdCertificateController' },
  { definition: KubernetesSecrets, id: KUBERNETES_SECRETS_ID, controller: 'KubernetesCertificateController' },
  {
    definition: KubeletCertificates,
    id: KUBELET_CERTIFICATES_ID,
    controller: 'KubeletCertificateController',
    awaited: { names: ['client', 'server'], issuer: 'kubernetes' },
  },
];

/** A CA certificate as found in root secrets, with the PEMs a leaf of it may chain to. */
export interface CaSource {
  name: CaName;
  crt: string;
  accepted: string[];
}
