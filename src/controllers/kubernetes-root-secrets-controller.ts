// Takes the Kubernetes, aggregator and service-account secrets from the machine config on control-plane nodes. The
// machine config has no accepted list for the aggregator CA: the CAs of ExtraAcceptedCAs/aggregator (a rotation's
// overlap, written there on every control plane by the rotation driver) are accepted too.
import { firstServiceAddress } from '../config/cluster-network.js';
import type { MachineConfig } from '../config/machine-config.js';
import { KubernetesRootSecrets } from '../resources/root-secrets.js';
import type { KubernetesRootSecretsSpec } from '../resources/root-secrets.js';
import { rootSecretsController } from './root-secrets-transform.js';
import { uniqueList } from './sans.js';

export const K8S_ROOT_ID = 'k8s';

export const kubernetesRootSecretsController = rootSecretsController({
  name: 'KubernetesRootSecretsController',
  output: KubernetesRootSecrets,
  id: K8S_ROOT_ID,
  extraAccepted: 'aggregator',
  project: (config, extra) => kubernetesRootSecretsSpec(config, extra),
  absent: 'not a control-plane node',
});

/**
 * The Kubernetes PKI a control-plane config carries, accepting `aggregatorExtra` besides its aggregator CA; undefined
 * on a worker or when a key is missing.
 */
export function kubernetesRootSecretsSpec(config: MachineConfig, aggregatorExtra: readonly string[] = []): KubernetesRootSecretsSpec | undefined {
  const ca = config.type !== 'worker' ? config.kubernetesCA : undefined;
  const aggregatorCA = config.aggregatorCA;
  const serviceAccountKey = config.serviceAccountKey;
  if (!ca?.key || !aggregatorCA?.key || !serviceAccountKey) return undefined;
  return {
    ca,
    acceptedCAs: uniqueList([...config.kubernetesAcceptedCAs, ca.crt]),
    aggregatorCA,
    aggregatorAcceptedCAs: uniqueList([aggregatorCA.crt, ...aggregatorExtra]),
    serviceAccountKey,
    clusterName: config.clusterName,
    endpoint: config.controlPlaneEndpoint,
    apiServerCertSANs: config.apiServerCertSANs,
    dnsDomain: config.dnsDomain,
    apiServiceIPs: config.serviceSubnets.map(firstServiceAddress),
    localAPIServerPort: config.localAPIServerPort,
    bootstrapToken: config.bootstrapToken,
  };
}
