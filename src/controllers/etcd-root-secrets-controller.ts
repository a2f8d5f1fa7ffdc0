// Takes the etcd CA from the machine config on control-plane nodes; workers hold none.
import type { MachineConfig } from '../config/machine-config.js';
import { idle, input, exclusive } from '../runtime/controller.js';
import type { Controller } from '../runtime/controller.js';
import { MACHINE_CONFIG_ID, MachineConfigs, machineConfigOf } from '../resources/machine-config.js';
import { EtcdRootSecrets } from '../resources/root-secrets.js';
import type { EtcdRootSecretsSpec } from '../resources/root-secrets.js';

export const ETCD_ROOT_ID = 'etcd';

export const etcdRootSecretsController: Controller = {
  name: 'EtcdRootSecretsController',
  inputs: [input(MachineConfigs, 'config', MACHINE_CONFIG_ID)],
  outputs: [exclusive(EtcdRootSecrets)],

  async reconcile(rt) {
    const mc = await rt.get(MachineConfigs, MACHINE_CONFIG_ID);
    const config = mc && machineConfigOf(mc);
    const spec = config && etcdRootSecretsSpec(config);
    if (!spec) {
      await rt.destroyOthers(EtcdRootSecrets, []);
      return idle(config ? 'not a control-plane node' : 'waiting for a machine config');
    }
    await rt.modify(EtcdRootSecrets, ETCD_ROOT_ID, () => spec);
    return idle();
  },
};

/** The etcd CA of a control-plane config; undefined on a worker or without its key. */
export function etcdRootSecretsSpec(config: MachineConfig): EtcdRootSecretsSpec | undefined {
  const ca = config.type !== 'worker' ? config.etcdCA : undefined;
  return ca?.key ? { ca } : undefined;
}
