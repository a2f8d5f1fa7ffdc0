// TrustdResponses (secrets/api): what a worker's trustd client last received from trustd for its apid certificate —
// the key it made, the certificate trustd signed and the CA bundle — or why the last attempt failed. Written by the
// trustd client (a loop in src/server, owner 'trustd-client'); ApiCertificateController checks it and installs it.
import { z } from 'zod';
import { defineResource } from '../runtime/resource.js';
import { isoTime, ISSUE_REASONS } from './common.js';
import { specValidator } from './spec-schema.js';

export const TRUSTD_RESPONSE_ID = 'api';
export const TRUSTD_CLIENT_OWNER = 'trustd-client';

const sansSchema = z.object({ ips: z.array(z.string().ip()), dnsNames: z.array(z.string().min(1)) }).strict();

const responseSchema = z
  .object({
    crt: z.string().min(1),
    key: z.string().min(1),
    /** PEM bundle of the CAs trustd accepts (its OS issuing CA and accepted CAs). */
    ca: z.string().min(1),
    /** The names asked for (the node's CertSANs at request time). */
    sans: sansSchema,
    requestedAt: isoTime,
    /** When the client will ask again (renewal point between 2/3 and 9/10 of the certificate's life). */
    renewAt: isoTime,
    /** Why this request was made (cert-manager's vocabulary). */
    reason: z.enum(ISSUE_REASONS),
    /** HOST:PORT of the trustd that answered. */
    endpoint: z.string().min(1),
    /** How the request was authenticated: the token of the config (first join) or the certificate it renewed. */
    auth: z.enum(['token', 'certificate']).optional(),
  })
  .strict();

const failureSchema = z
  .object({
    /** The last error, with the endpoint that gave it; never a secret. */
    message: z.string().min(1),
    /** Consecutive failed attempts. */
    attempts: z.number().int().positive(),
    lastAttempt: isoTime,
    nextRetry: isoTime,
  })
  .strict();

const schema = z.object({ response: responseSchema.optional(), failure: failureSchema.optional() }).strict();
export type TrustdResponseSpec = z.infer<typeof schema>;
export type TrustdResponse = z.infer<typeof responseSchema>;
export type TrustdFailure = z.infer<typeof failureSchema>;

export const TrustdResponses = defineResource<TrustdResponseSpec>({
  type: 'TrustdResponses',
  aliases: ['trustdresponse', 'trustdresponses'],
  namespace: 'secrets',
  sensitive: true,
  printColumns: [
    { name: 'REQUESTED', value: (r) => r.spec.response?.requestedAt ?? '' },
    { name: 'ENDPOINT', value: (r) => r.spec.response?.endpoint ?? '' },
    { name: 'LAST ERROR', value: (r) => r.spec.failure?.message ?? '' },
  ],
  validate: specValidator('TrustdResponses', schema),
});
