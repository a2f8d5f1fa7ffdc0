// Takes the etcd CA from the machine config on control-plane nodes; workers hold none. While a rotation of the etcd CA
// is under way on this node (its CARotation and CARotationSecrets), the other CA is accepted too: the machine config
// has no accepted list for etcd.
import type { MachineConfig } from '../config/machine-config.js';
import { idle, input, exclusive } from '../runtime/controller.js';
import type { Controller, ReconcileContext } from '../runtime/controller.js';
import { MACHINE_CONFIG_ID, MachineConfigs, machineConfigOf } from '../resources/machine-config.js';
import { CARotationSecrets, CARotations, rotationOverlapCAs } from '../resources/ca-rotation.js';
import type { CARotationSecretsSpec, CARotationSpec } from '../resources/ca-rotation.js';
import { EtcdRootSecrets } from '../resources/root-secrets.js';
import type { EtcdRootSecretsSpec } from '../resources/root-secrets.js';
import { uniqueList } from './sans.js';

export const ETCD_ROOT_ID = 'etcd';

export const etcdRootSecretsController: Controller = {
  name: 'EtcdRootSecretsController',
  inputs: [input(MachineConfigs, 'config', MACHINE_CONFIG_ID), input(CARotations, undefined, 'etcd'), input(CARotationSecrets, undefined, 'etcd')],
  outputs: [exclusive(EtcdRootSecrets)],

  async reconcile(rt) {
    const mc = await rt.get(MachineConfigs, MACHINE_CONFIG_ID);
    const config = mc && machineConfigOf(mc);
    const issuing = config?.type !== 'worker' ? config?.etcdCA?.crt : undefined;
    const spec = config && etcdRootSecretsSpec(config, issuing ? await rotationOverlap(rt, 'etcd', issuing) : []);
    if (!spec) {
      await rt.destroyOthers(EtcdRootSecrets, []);
      return idle(config ? 'not a control-plane node' : 'waiting for a machine config');
    }
    await rt.modify(EtcdRootSecrets, ETCD_ROOT_ID, () => spec);
    return idle();
  },
};

/** The etcd CA of a control-plane config (and `overlap`, the other CA of a rotation); undefined on a worker or without its key. */
export function etcdRootSecretsSpec(config: MachineConfig, overlap: readonly string[] = []): EtcdRootSecretsSpec | undefined {
  const ca = config.type !== 'worker' ? config.etcdCA : undefined;
  return ca?.key ? { ca, acceptedCAs: uniqueList([ca.crt, ...overlap]) } : undefined;
}

/** The other CA to accept while a rotation of `ca` on this node overlaps the two (etcd and aggregator only). */
export async function rotationOverlap(rt: ReconcileContext, ca: 'etcd' | 'aggregator', issuingCrt: string): Promise<string[]> {
  const rotation = await rt.get<CARotationSpec>(CARotations, ca);
  const secrets = await rt.get<CARotationSecretsSpec>(CARotationSecrets, ca);
  return rotationOverlapCAs(rotation?.spec, secrets?.spec, issuingCrt);
}
