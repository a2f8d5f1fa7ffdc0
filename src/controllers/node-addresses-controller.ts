// Publishes the node's non-loopback addresses and hostname. Overrides (serve --node-ip, --hostname) let several nodes
// share one host; the machine config's machine.network.hostname wins over the OS hostname.
import { hostname as osHostname, networkInterfaces } from 'node:os';
import { idle, input, exclusive } from '../runtime/controller.js';
import type { Controller } from '../runtime/controller.js';
import { parseMachineConfig } from '../config/machine-config.js';
import { MACHINE_CONFIG_ID, MachineConfigs } from '../resources/machine-config.js';
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

function configuredHostname(yaml: string | undefined): string | undefined {
  if (!yaml) return undefined;
  try {
    const value = parseMachineConfig(yaml).raw(['machine', 'network', 'hostname']);
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
      const hostname = overrides.hostname ?? configuredHostname(mc?.spec.yaml) ?? osHostname();
      const addresses = splitSans(overrides.addresses ?? systemAddresses()).ips;
      await rt.modify(NodeAddresses, NODE_ADDRESSES_ID, () => ({ addresses, hostname }));
      return idle();
    },
  };
}
