// Takes the etcd CA from the machine config on control-plane nodes; workers hold none. The machine config has no
// accepted list for etcd: the CAs of ExtraAcceptedCAs/etcd (a rotation's overlap, written there on every control plane
// by the rotation driver) are accepted too.
import type { MachineConfig } from '../config/machine-config.js';
import { idle, input, exclusive } from '../runtime/controller.js';
import type { Controller } from '../runtime/controller.js';
import { MACHINE_CONFIG_ID, MachineConfigs, machineConfigOf } from '../resources/machine-config.js';
import { ExtraAcceptedCAs } from '../resources/extra-accepted-cas.js';
import { EtcdRootSecrets } from '../resources/root-secrets.js';
import type { EtcdRootSecretsSpec } from '../resources/root-secrets.js';
import { uniqueList } from './sans.js';

export const ETCD_ROOT_ID = 'etcd';

export const etcdRootSecretsController: Controller = {
  name: 'EtcdRootSecretsController',
  inputs: [input(MachineConfigs, 'config', MACHINE_CONFIG_ID), input(ExtraAcceptedCAs, 'config', 'etcd')],
  outputs: [exclusive(EtcdRootSecrets)],

  async reconcile(rt) {
    const mc = await rt.get(MachineConfigs, MACHINE_CONFIG_ID);
    const config = mc && machineConfigOf(mc);
    const extra = await rt.get(ExtraAcceptedCAs, 'etcd');
    const spec = config && etcdRootSecretsSpec(config, extra?.spec.crts);
    if (!spec) {
      await rt.destroyOthers(EtcdRootSecrets, []);
      return idle(config ? 'not a control-plane node' : 'waiting for a machine config');
    }
    await rt.modify(EtcdRootSecrets, ETCD_ROOT_ID, () => spec);
    return idle();
  },
};

/** The etcd CA of a control-plane config, accepting `extra` besides it; undefined on a worker or without its key. */
export function etcdRootSecretsSpec(config: MachineConfig, extra: readonly string[] = []): EtcdRootSecretsSpec | undefined {
  const ca = config.type !== 'worker' ? config.etcdCA : undefined;
  return ca?.key ? { ca, acceptedCAs: uniqueList([ca.crt, ...extra]) } : undefined;
}
