// Publishes the node's non-loopback addresses and hostname. Overrides (serve --node-ip, --hostname) let several nodes
// share one host; the machine config's machine.network.hostname wins over the OS hostname.
import { hostname as osHostname, networkInterfaces } from 'node:os';
import { idle, input, exclusive } from '../runtime/controller.js';
import type { Controller } from '../runtime/controller.js';
import { MACHINE_CONFIG_ID, MachineConfigs, machineConfigOf } from '../resources/machine-config.js';
import type { MachineConfigSpec } from '../resources/machine-config.js';
import type { Resource } from '../runtime/resource.js';
import { NodeAddresses } from '../resources/node-addresses.js';
import { splitSans } from './sans.js';

export const NODE_ADDRESSES_ID = 'current';

export interface NodeAddressOverrides {
  addresses?: string[];
  hostname?: string;
}

export function systemAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => !a.internal && !(a.family === 'IPv6' && a.address.startsWith('fe80:')))
    .map((a) => a.address);
}

function configuredHostname(mc: Resource<MachineConfigSpec> | undefined): string | undefined {
  if (!mc) return undefined;
  try {
    const value = machineConfigOf(mc).raw(['machine', 'network', 'hostname']);
    return typeof value === 'string' && value ? value : undefined;
  } catch {
    return undefined;
  }
}

export function nodeAddressesController(overrides: NodeAddressOverrides = {}): Controller {
  return {
    name: 'NodeAddressesController',
    inputs: [input(MachineConfigs, 'config', MACHINE_CONFIG_ID)],
    outputs: [exclusive(NodeAddresses)],

    async reconcile(rt) {
      const mc = await rt.get(MachineConfigs, MACHINE_CONFIG_ID);
      const hostname = overrides.hostname ?? configuredHostname(mc) ?? osHostname();
      const addresses = splitSans(overrides.addresses ?? systemAddresses()).ips;
      await rt.modify(NodeAddresses, NODE_ADDRESSES_ID, () => ({ addresses, hostname }));
      return idle();
    },
  };
}
