// CertSANs (secrets/api): the names the node's server certificates carry: certSANs + node IPs + 127.0.0.1 + hostname.
import { z } from 'zod';
import { defineResource } from '../runtime/resource.js';
import { specValidator } from './spec-schema.js';

const schema = z.object({ ips: z.array(z.string().ip()), dnsNames: z.array(z.string().min(1)) }).strict();
export type CertSANsSpec = z.infer<typeof schema>;

export const CertSANs = defineResource<CertSANsSpec>({
  type: 'CertSANs',
  aliases: ['certsan', 'certsans'],
  namespace: 'secrets',
  sensitive: false,
  printColumns: [
    { name: 'IPS', value: (r) => r.spec.ips.join(',') },
    { name: 'DNS NAMES', value: (r) => r.spec.dnsNames.join(',') },
  ],
  validate: specValidator('CertSANs', schema),
});
