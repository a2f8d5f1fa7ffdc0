// CrossSignedCAs (config/os): the new Talos API CA cross-signed by the old one, sent by apid after its server
// certificate while a rotation overlaps the two CAs. A client that still trusts only the old CA (an old talosconfig)
// verifies a new-CA server certificate through it, so it keeps working until the old CA is dropped. Written on every
// node by the rotation driver; certificates only, not sensitive.
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { defineResource } from '../runtime/resource.js';
import { caCertificatePem } from './common.js';
import { specValidator } from './spec-schema.js';

export const CROSS_SIGNED_CAS_ID = 'os';

const schema = z
  .object({
    /** PEM CA certificates, each another CA's name and key signed by a CA that older clients trust. */
    crts: z.array(caCertificatePem),
    reason: z.string(),
  })
  .strict();
export type CrossSignedCAsSpec = z.infer<typeof schema>;

export const CrossSignedCAs = defineResource<CrossSignedCAsSpec>({
  type: 'CrossSignedCAs',
  aliases: ['crosssignedca', 'crosssignedcas', 'xca'],
  namespace: 'config',
  sensitive: false,
  printColumns: [
    { name: 'CAS', value: (r) => r.spec.crts.map((p) => new X509Certificate(p).fingerprint256.slice(0, 23)).join(',') },
    { name: 'REASON', value: (r) => r.spec.reason },
  ],
  validate: specValidator('CrossSignedCAs', schema),
});
