// Computes the names the node's server certificates carry: machine.certSANs + node IPs + 127.0.0.1 + hostname.
import { idle, input, exclusive } from '../runtime/controller.js';
import type { Controller } from '../runtime/controller.js';
import { CertSANs } from '../resources/cert-sans.js';
import { NodeAddresses } from '../resources/node-addresses.js';
import type { NodeAddressesSpec } from '../resources/node-addresses.js';
import { OSRootSecrets } from '../resources/root-secrets.js';
import type { OSRootSecretsSpec } from '../resources/root-secrets.js';
import { NODE_ADDRESSES_ID } from './node-addresses-controller.js';
import { OS_ROOT_ID } from './os-root-secrets-controller.js';
import { splitSans } from './sans.js';
import type { SplitSans } from './sans.js';

export const CERT_SANS_ID = 'api';

export const certSANsController: Controller = {
  name: 'CertSANsController',
  inputs: [input(OSRootSecrets, 'secrets', OS_ROOT_ID), input(NodeAddresses, 'network', NODE_ADDRESSES_ID)],
  outputs: [exclusive(CertSANs)],

  async reconcile(rt) {
    const root = await rt.get(OSRootSecrets, OS_ROOT_ID);
    const node = await rt.get(NodeAddresses, NODE_ADDRESSES_ID);
    if (!root || !node) return idle('waiting for OS root secrets and node addresses');
    const sans = certSANsSpec(root.spec, node.spec);
    await rt.modify(CertSANs, CERT_SANS_ID, () => sans);
    return idle();
  },
};

export function certSANsSpec(root: OSRootSecretsSpec, node: NodeAddressesSpec): SplitSans {
  const { ips, dnsNames } = root.certSANs;
  return splitSans([...ips, ...dnsNames, ...node.addresses, '127.0.0.1', node.hostname]);
}
