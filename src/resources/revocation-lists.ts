// RevocationLists (secrets/<ca>): the CRL each CA publishes, written by the CRL controller on a node that holds the
// CA's key, served by trustd at /crl/<ca>.crl and printed by `trustctl crl <ca>`. Not sensitive: a CRL is public.
import { z } from 'zod';
import { defineResource } from '../runtime/resource.js';
import { CA_NAMES, isoTime } from './common.js';
import { specValidator } from './spec-schema.js';

const schema = z
  .object({
    ca: z.enum(CA_NAMES),
    /** PEM `X509 CRL`. */
    pem: z.string().min(1),
    /** The CRL number: grows by one with every CRL published. */
    number: z.number().int().nonnegative(),
    thisUpdate: isoTime,
    nextUpdate: isoTime,
    /** The serials listed (lower-case hex), so a change of the revocations is seen without parsing the CRL. */
    serials: z.array(z.string()),
    /** SHA-256 fingerprint of the CA that signed it: a rotated CA publishes afresh. */
    issuer: z.string().min(1),
  })
  .strict();
export type RevocationListSpec = z.infer<typeof schema>;

export const RevocationLists = defineResource<RevocationListSpec>({
  type: 'RevocationLists',
  aliases: ['revocationlist', 'revocationlists', 'crl', 'crls'],
  namespace: 'secrets',
  sensitive: false,
  printColumns: [
    { name: 'NUMBER', value: (r) => String(r.spec.number) },
    { name: 'ENTRIES', value: (r) => String(r.spec.serials.length) },
    { name: 'THIS UPDATE', value: (r) => r.spec.thisUpdate },
    { name: 'NEXT UPDATE', value: (r) => r.spec.nextUpdate },
  ],
  validate: specValidator('RevocationLists', schema),
});
