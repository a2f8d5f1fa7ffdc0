// NodeAddresses (network/current): the node's non-loopback IPs and hostname; from the OS unless overridden.
import { z } from 'zod';
import { defineResource } from '../runtime/resource.js';
import { specValidator } from './spec-schema.js';

const schema = z.object({ addresses: z.array(z.string().ip()), hostname: z.string().min(1) }).strict();
export type NodeAddressesSpec = z.infer<typeof schema>;

export const NodeAddresses = defineResource<NodeAddressesSpec>({
  type: 'NodeAddresses',
  aliases: ['nodeaddress', 'nodeaddresses', 'na'],
  namespace: 'network',
  sensitive: false,
  printColumns: [
    { name: 'ADDRESSES', value: (r) => r.spec.addresses.join(',') },
    { name: 'HOSTNAME', value: (r) => r.spec.hostname },
  ],
  validate: specValidator('NodeAddresses', schema),
});
