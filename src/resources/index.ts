// The resource types of a trustplane node, and a registry holding them all (plus the runtime's own).
import { ResourceRegistry } from '../runtime/resource.js';
import type { ResourceDefinition } from '../runtime/resource.js';
import { AuditHeads, AuditKeys, AuditRecords } from './audit-records.js';
import { CARotationSecrets, CARotations } from './ca-rotation.js';
import { CertSANs } from './cert-sans.js';
import { CertificateStatuses } from './certificate-status.js';
import { CrossSignedCAs } from './cross-signed-cas.js';
import { ExtraAcceptedCAs } from './extra-accepted-cas.js';
import { ApiCertificates, EtcdSecrets, KubeletCertificates, KubernetesSecrets, TrustdCertificates } from './issued-certificates.js';
import { JoinTokens } from './join-token.js';
import { KubeletResponses } from './kubelet-response.js';
import { MachineConfigs } from './machine-config.js';
import { NodeAddresses } from './node-addresses.js';
import { EtcdRootSecrets, KubernetesRootSecrets, OSRootSecrets } from './root-secrets.js';
import { RevocationLists } from './revocation-lists.js';
import { Revocations } from './revocations.js';
import { SecurityStatuses } from './security-status.js';
import { TokenPolicies } from './token-policy.js';
import { TrustdResponses } from './trustd-response.js';

export * from './audit-records.js';
export * from './ca-list.js';
export * from './ca-rotation.js';
export * from './cert-sans.js';
export * from './certificate-status.js';
export * from './common.js';
export * from './cross-signed-cas.js';
export * from './extra-accepted-cas.js';
export * from './issued-certificates.js';
export * from './join-token.js';
export * from './kubelet-response.js';
export * from './machine-config.js';
export * from './node-addresses.js';
export * from './root-secrets.js';
export * from './revocation-lists.js';
export * from './revocations.js';
export * from './security-status.js';
export * from './token-policy.js';
export * from './trustd-response.js';

export const NODE_RESOURCES: readonly ResourceDefinition[] = [
  MachineConfigs,
  ExtraAcceptedCAs,
  CrossSignedCAs,
  NodeAddresses,
  OSRootSecrets,
  EtcdRootSecrets,
  KubernetesRootSecrets,
  CertSANs,
  ApiCertificates,
  TrustdCertificates,
  EtcdSecrets,
  KubernetesSecrets,
  KubeletCertificates,
  KubeletResponses,
  CertificateStatuses,
  SecurityStatuses,
  TrustdResponses,
  CARotations,
  CARotationSecrets,
  AuditRecords,
  AuditHeads,
  AuditKeys,
  JoinTokens,
  TokenPolicies,
  Revocations,
  RevocationLists,
];

export function nodeRegistry(extra: Iterable<ResourceDefinition> = []): ResourceRegistry {
  return new ResourceRegistry([...NODE_RESOURCES, ...extra]);
}
