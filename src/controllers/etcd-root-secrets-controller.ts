// Takes the etcd CA from the machine config on control-plane nodes; workers hold none. The machine config has no
// accepted list for etcd: the CAs of ExtraAcceptedCAs/etcd (a rotation's overlap, written there on every control plane
// by the rotation driver) are accepted too.
import type { MachineConfig } from '../config/machine-config.js';
import { EtcdRootSecrets } from '../resources/root-secrets.js';
import type { EtcdRootSecretsSpec } from '../resources/root-secrets.js';
import { rootSecretsController } from './root-secrets-transform.js';
import { uniqueList } from './sans.js';

export const ETCD_ROOT_ID = 'etcd';

export const etcdRootSecretsController = rootSecretsController({
  name: 'EtcdRootSecretsController',
  output: EtcdRootSecrets,
  id: ETCD_ROOT_ID,
  extraAccepted: 'etcd',
  project: (config, extra) => etcdRootSecretsSpec(config, extra),
  absent: 'not a control-plane node',
});

/** The etcd CA of a control-plane config, accepting `extra` besides it; undefined on a worker or without its key. */
export function etcdRootSecretsSpec(config: MachineConfig, extra: readonly string[] = []): EtcdRootSecretsSpec | undefined {
  const ca = config.type !== 'worker' ? config.etcdCA : undefined;
  return ca?.key ? { ca, acceptedCAs: uniqueList([ca.crt, ...extra]) } : undefined;
}
