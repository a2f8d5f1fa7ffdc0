// Takes the Talos OS CA, the accepted CAs, certSANs and the trustd token from the machine config.
import type { MachineConfig } from '../config/machine-config.js';
import { idle, input, exclusive } from '../runtime/controller.js';
import type { Controller } from '../runtime/controller.js';
import { MACHINE_CONFIG_ID, MachineConfigs, machineConfigOf } from '../resources/machine-config.js';
import { OSRootSecrets } from '../resources/root-secrets.js';
import type { OSRootSecretsSpec } from '../resources/root-secrets.js';
import { splitSans, uniqueList } from './sans.js';

export const OS_ROOT_ID = 'os';

export const osRootSecretsController: Controller = {
  name: 'OSRootSecretsController',
  inputs: [input(MachineConfigs, 'config', MACHINE_CONFIG_ID)],
  outputs: [exclusive(OSRootSecrets)],

  async reconcile(rt) {
    const mc = await rt.get(MachineConfigs, MACHINE_CONFIG_ID);
    if (!mc) {
      await rt.destroyOthers(OSRootSecrets, []);
      return idle('waiting for a machine config');
    }
    const spec = osRootSecretsSpec(machineConfigOf(mc));
    await rt.modify(OSRootSecrets, OS_ROOT_ID, () => spec);
    return idle();
  },
};

/** What the node takes from its config for the OS PKI; pure, so the patch preview computes the same. */
export function osRootSecretsSpec(config: MachineConfig): OSRootSecretsSpec {
  const issuing = config.osCA;
  return {
    issuingCA: issuing,
    acceptedCAs: uniqueList([...config.acceptedCAs, issuing.crt]),
    certSANs: splitSans(config.certSANs),
    token: config.token,
    machineType: config.type as OSRootSecretsSpec['machineType'],
  };
}
