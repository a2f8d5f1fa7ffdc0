// Takes the Kubernetes, aggregator and service-account secrets from the machine config on control-plane nodes. The
// machine config has no accepted list for the aggregator CA: the CAs of ExtraAcceptedCAs/aggregator (a rotation's
// overlap, written there on every control plane by the rotation driver) are accepted too.
import { firstServiceAddress } from '../config/cluster-network.js';
import type { MachineConfig } from '../config/machine-config.js';
import { idle, input, exclusive } from '../runtime/controller.js';
import type { Controller } from '../runtime/controller.js';
import { MACHINE_CONFIG_ID, MachineConfigs, machineConfigOf } from '../resources/machine-config.js';
import { ExtraAcceptedCAs } from '../resources/extra-accepted-cas.js';
import { KubernetesRootSecrets } from '../resources/root-secrets.js';
import type { KubernetesRootSecretsSpec } from '../resources/root-secrets.js';
import { uniqueList } from './sans.js';

export const K8S_ROOT_ID = 'k8s';

export const kubernetesRootSecretsController: Controller = {
  name: 'KubernetesRootSecretsController',
  inputs: [input(MachineConfigs, 'config', MACHINE_CONFIG_ID), input(ExtraAcceptedCAs, 'config', 'aggregator')],
  outputs: [exclusive(KubernetesRootSecrets)],

  async reconcile(rt) {
    const mc = await rt.get(MachineConfigs, MACHINE_CONFIG_ID);
    const config = mc && machineConfigOf(mc);
    const extra = await rt.get(ExtraAcceptedCAs, 'aggregator');
    const spec = config && kubernetesRootSecretsSpec(config, extra?.spec.crts);
    if (!spec) {
      await rt.destroyOthers(KubernetesRootSecrets, []);
      return idle(config ? 'not a control-plane node' : 'waiting for a machine config');
    }
    await rt.modify(KubernetesRootSecrets, K8S_ROOT_ID, () => spec);
    return idle();
  },
};

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
