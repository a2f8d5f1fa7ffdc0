// The one loop behind the root-secrets controllers (os, etcd, kubernetes), as Talos uses one transform for the same
// three: read the machine config (and, for a PKI without an accepted list in the config, a rotation's extra CAs),
// project the spec with a pure function that the patch preview also calls, then write it or destroy what is left.
import type { MachineConfig } from '../config/machine-config.js';
import { ExtraAcceptedCAs } from '../resources/extra-accepted-cas.js';
import { MACHINE_CONFIG_ID, MachineConfigs, machineConfigOf } from '../resources/machine-config.js';
import { exclusive, idle, input } from '../runtime/controller.js';
import type { Controller, ControllerInput } from '../runtime/controller.js';
import type { ResourceDefinition } from '../runtime/resource.js';

export interface RootSecretsTransform<Spec> {
  name: string;
  output: ResourceDefinition<Spec>;
  id: string;
  /** The ExtraAcceptedCAs id whose CAs (a rotation's overlap) are accepted too. */
  extraAccepted?: string;
  /** The spec for this config, or undefined when the node holds none of this PKI. */
  project(config: MachineConfig, extra: readonly string[]): Spec | undefined;
  /** Why there is none, for a config `project` gives nothing for. */
  absent: string;
}

export function rootSecretsController<Spec>(t: RootSecretsTransform<Spec>): Controller {
  const inputs: ControllerInput[] = [input(MachineConfigs, 'config', MACHINE_CONFIG_ID)];
  if (t.extraAccepted) inputs.push(input(ExtraAcceptedCAs, 'config', t.extraAccepted));
  return {
    name: t.name,
    inputs,
    outputs: [exclusive(t.output)],

    async reconcile(rt) {
      const mc = await rt.get(MachineConfigs, MACHINE_CONFIG_ID);
      const config = mc && machineConfigOf(mc);
      const extra = t.extraAccepted ? await rt.get(ExtraAcceptedCAs, t.extraAccepted) : undefined;
      const spec = config && t.project(config, extra?.spec.crts ?? []);
      if (!spec) {
        await rt.destroyOthers(t.output, []);
        return idle(config ? t.absent : 'waiting for a machine config');
      }
      await rt.modify(t.output, t.id, () => spec);
      return idle();
    },
  };
}
