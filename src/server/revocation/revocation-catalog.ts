// What a node knows that a revocation can be matched against: the certificates of each CA it trusts (to tell which CA
// issued a given certificate) and the certificates it holds itself (to find one by serial or fingerprint).
import type { X509Certificate } from 'node:crypto';
import { parseCertificate } from '../../controllers/certificate-cache.js';
import { ETCD_ROOT_ID } from '../../controllers/etcd-root-secrets-controller.js';
import { K8S_ROOT_ID } from '../../controllers/kubernetes-root-secrets-controller.js';
import { OS_ROOT_ID } from '../../controllers/os-root-secrets-controller.js';
import { ISSUED_SOURCES } from '../../controllers/status/status-sources.js';
import type { CaName } from '../../resources/common.js';
import type { IssuedCertificatesSpec } from '../../resources/issued-certificates.js';
import { EtcdRootSecrets, KubernetesRootSecrets, OSRootSecrets } from '../../resources/root-secrets.js';
import type { EtcdRootSecretsSpec, KubernetesRootSecretsSpec, OSRootSecretsSpec } from '../../resources/root-secrets.js';
import { TRUSTD_RESPONSE_ID, TrustdResponses } from '../../resources/trustd-response.js';
import type { TrustdResponseSpec } from '../../resources/trustd-response.js';
import type { ResourceDefinition } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';

export interface KnownCertificate {
  cert: X509Certificate;
  ca: CaName;
  /** Where the node holds it, for messages: `ApiCertificates/api server`. */
  where: string;
}

export interface RevocationCatalog {
  /** Each CA's certificates: the issuing one first, then the others it accepts (a rotation's overlap). */
  cas: Record<CaName, X509Certificate[]>;
  known: KnownCertificate[];
}

const find = <S>(state: State, d: ResourceDefinition<S>, id: string) => state.find<S>({ namespace: d.namespace, type: d.type, id });

export async function readCatalog(state: State): Promise<RevocationCatalog> {
  const os = (await find<OSRootSecretsSpec>(state, OSRootSecrets, OS_ROOT_ID))?.spec;
  const etcd = (await find<EtcdRootSecretsSpec>(state, EtcdRootSecrets, ETCD_ROOT_ID))?.spec;
  const k8s = (await find<KubernetesRootSecretsSpec>(state, KubernetesRootSecrets, K8S_ROOT_ID))?.spec;
  const certs = (first: string | undefined, others: readonly string[] = []) => [...new Set([...(first ? [first] : []), ...others])].map(parseCertificate);
  const cas: Record<CaName, X509Certificate[]> = {
    os: certs(os?.issuingCA.crt, os?.acceptedCAs),
    kubernetes: certs(k8s?.ca.crt, k8s?.acceptedCAs),
    aggregator: certs(k8s?.aggregatorCA.crt, k8s?.aggregatorAcceptedCAs),
    etcd: certs(etcd?.ca.crt, etcd?.acceptedCAs),
  };
  const known: KnownCertificate[] = [];
  for (const source of ISSUED_SOURCES) {
    const set = (await find<IssuedCertificatesSpec>(state, source.definition, source.id))?.spec;
    for (const [name, issued] of Object.entries(set?.certificates ?? {})) known.push({ cert: parseCertificate(issued.crt), ca: issued.issuer, where: `${source.definition.type}/${source.id} ${name}` });
  }
  const response = (await find<TrustdResponseSpec>(state, TrustdResponses, TRUSTD_RESPONSE_ID))?.spec.response;
  if (response) known.push({ cert: parseCertificate(response.crt), ca: 'os', where: `${TrustdResponses.type}/${TRUSTD_RESPONSE_ID}` });
  return { cas, known };
}
