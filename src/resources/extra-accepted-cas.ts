// ExtraAcceptedCAs (config/etcd, config/aggregator): CAs a control plane trusts for etcd or the aggregator besides the
// one its machine config names. Talos's config has an accepted list for the Talos API and Kubernetes CAs only, so the
// overlap of a rotation of these two CAs (old and new both trusted) is written here, on every control plane, by the
// rotation driver over apid; the root-secrets controllers add it to their accepted lists. Certificates only: not sensitive.
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { defineResource } from '../runtime/resource.js';
import { caCertificatePem } from './common.js';
import { specValidator } from './spec-schema.js';

/** The CAs without an accepted list in the machine config; each has one ExtraAcceptedCAs resource (its id). */
export const EXTRA_ACCEPTED_CA_IDS = ['etcd', 'aggregator'] as const;
export type ExtraAcceptedCAId = (typeof EXTRA_ACCEPTED_CA_IDS)[number];

const schema = z
  .object({
    /** PEM CA certificates, trusted in addition to the machine config's CA. */
    crts: z.array(caCertificatePem),
    /** Why they are trusted (the rotation that put them here), for whoever reads `trustctl get extraacceptedcas`. */
    reason: z.string(),
  })
  .strict();
export type ExtraAcceptedCAsSpec = z.infer<typeof schema>;

export const ExtraAcceptedCAs = defineResource<ExtraAcceptedCAsSpec>({
  type: 'ExtraAcceptedCAs',
  aliases: ['extraacceptedca', 'extraacceptedcas', 'eaca'],
  namespace: 'config',
  sensitive: false,
  printColumns: [
    { name: 'CAS', value: (r) => r.spec.crts.map(fingerprintOf).join(',') },
    { name: 'REASON', value: (r) => r.spec.reason },
  ],
  validate: specValidator('ExtraAcceptedCAs', schema),
});

function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256.slice(0, 23);
}
