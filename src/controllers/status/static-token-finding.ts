// The finding for a control plane whose trustd still accepts the cluster's static machine.token: Talos's default, kept
// so Talos-made configs join, but a token that never expires, is never used up and sits in every worker config. Info,
// not a warning: it is the default, and a warning would make every default cluster unhealthy.
import type { Finding } from '../../resources/security-status.js';
import type { StaticTokenMode } from '../../resources/token-policy.js';

export function staticTokenFinding(machineType: string | undefined, mode: StaticTokenMode): Finding | undefined {
  // Workers run no trustd; without root secrets there is no trustd token yet.
  if (machineType === undefined || machineType === 'worker' || mode === 'refused') return undefined;
  return {
    severity: 'info',
    code: 'StaticTokenAccepted',
    subject: 'TokenPolicies/trustd',
    message:
      "trustd accepts the cluster's static machine.token, which never expires and can be replayed by anyone holding a worker config: join nodes with `trustctl token create` tokens, then `trustctl token static refuse`",
  };
}
