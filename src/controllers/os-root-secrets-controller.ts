// Takes the Talos OS CA, the accepted CAs, certSANs and the trustd token from the machine config.
import type { MachineConfig } from '../config/machine-config.js';
import { OSRootSecrets } from '../resources/root-secrets.js';
import type { OSRootSecretsSpec } from '../resources/root-secrets.js';
import { rootSecretsController } from './root-secrets-transform.js';
import { splitSans, uniqueList } from './sans.js';

export const OS_ROOT_ID = 'os';

export const osRootSecretsController = rootSecretsController({
  name: 'OSRootSecretsController',
  output: OSRootSecrets,
  id: OS_ROOT_ID,
  project: osRootSecretsSpec,
  // Every node has an OS PKI: a config always gives one.
  absent: 'no OS PKI in the machine config',
});

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
