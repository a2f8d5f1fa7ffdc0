// The controllers a trustplane node runs, in the order their outputs feed each other (the runtime does not need the
// order; a reader does).
import type { Finding } from '../resources/security-status.js';
import type { Controller } from '../runtime/controller.js';
import { apiCertificateController } from './api-certificate-controller.js';
import { memoryCaKeys } from './certificate-cache.js';
import { certSANsController } from './cert-sans-controller.js';
import { certificateStatusController } from './certificate-status-controller.js';
import { etcdCertificateController } from './etcd-certificate-controller.js';
import { etcdRootSecretsController } from './etcd-root-secrets-controller.js';
import { kubeletCertificateController } from './kubelet-certificate-controller.js';
import { kubernetesCertificateController } from './kubernetes-certificate-controller.js';
import { kubernetesRootSecretsController } from './kubernetes-root-secrets-controller.js';
import { lifetimesWith } from './lifetimes.js';
import type { CertificateLifetimes } from './lifetimes.js';
import type { IssuingOptions } from './issuing/issuing-options.js';
import { nodeAddressesController } from './node-addresses-controller.js';
import type { NodeAddressOverrides } from './node-addresses-controller.js';
import { osRootSecretsController } from './os-root-secrets-controller.js';
import { revocationListController } from './revocation-list-controller.js';
import { securityStatusController } from './security-status-controller.js';
import { trustdCertificateController } from './trustd-certificate-controller.js';

/** The issuing controllers' options (caKeys, audit, leafKeys; see issuing-options.ts), lifetimes given in part. */
export interface NodeControllerOptions extends Omit<IssuingOptions, 'lifetimes'> {
  addresses?: NodeAddressOverrides;
  lifetimes?: Partial<CertificateLifetimes>;
  encryptedAtRest: boolean;
  storeFindings?: readonly Finding[];
}

export function nodeControllers(options: NodeControllerOptions): Controller[] {
  const lifetimes = lifetimesWith(options.lifetimes);
  const caKeys = options.caKeys ?? memoryCaKeys;
  const issuing = { lifetimes, caKeys, audit: options.audit, leafKeys: options.leafKeys };
  return [
    nodeAddressesController(options.addresses),
    osRootSecretsController,
    etcdRootSecretsController,
    kubernetesRootSecretsController,
    certSANsController,
    apiCertificateController(issuing),
    trustdCertificateController(issuing),
    etcdCertificateController(issuing),
    kubernetesCertificateController(issuing),
    revocationListController(caKeys),
    kubeletCertificateController(issuing),
    certificateStatusController,
    securityStatusController({ encryptedAtRest: options.encryptedAtRest, storeFindings: options.storeFindings }),
  ];
}

/** Every controller with default options: what `trustctl inspect dependencies` draws. */
export const allControllers: Controller[] = nodeControllers({ encryptedAtRest: true });

export { DEFAULT_LIFETIMES, lifetimesWith } from './lifetimes.js';
export { freshLeafKeys, reusedLeafKeys } from './issuing/leaf-keys.js';
export type { LeafKeySource } from './issuing/leaf-keys.js';
export type { CertificateLifetimes } from './lifetimes.js';
