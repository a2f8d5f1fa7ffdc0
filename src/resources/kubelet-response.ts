// KubeletResponses (secrets/kubelet): what a worker's kubelet CSR client last received from a control plane's trustd
// for its kubelet client and serving certificates, or why the last attempt failed. Written by the client loop (src/server,
// owner 'kubelet-csr-client'); KubeletCertificateController checks each answer and installs it.
import { z } from 'zod';
import { defineResource } from '../runtime/resource.js';
import { certificateRequestSchema, isoTime, ISSUE_REASONS } from './common.js';
import { specValidator } from './spec-schema.js';

export const KUBELET_RESPONSE_ID = 'kubelet';
export const KUBELET_CSR_CLIENT_OWNER = 'kubelet-csr-client';
export const KUBELET_KINDS = ['client', 'server'] as const;
export type KubeletKind = (typeof KUBELET_KINDS)[number];

const answerSchema = z
  .object({
    crt: z.string().min(1),
    key: z.string().min(1),
    /** What the CSR asked for, so a change of names asks again (RequestChanged). */
    request: certificateRequestSchema,
    requestedAt: isoTime,
    renewAt: isoTime,
    reason: z.enum(ISSUE_REASONS),
    /** How the request was authenticated: the bootstrap token (first time) or the kubelet client certificate. */
    auth: z.enum(['token', 'certificate']),
    endpoint: z.string().min(1),
  })
  .strict();

const failureSchema = z
  .object({ message: z.string().min(1), attempts: z.number().int().positive(), lastAttempt: isoTime, nextRetry: isoTime })
  .strict();

const schema = z.object({ client: answerSchema.optional(), server: answerSchema.optional(), failure: failureSchema.optional() }).strict();
export type KubeletResponseSpec = z.infer<typeof schema>;
export type KubeletAnswer = z.infer<typeof answerSchema>;

export const KubeletResponses = defineResource<KubeletResponseSpec>({
  type: 'KubeletResponses',
  aliases: ['kubeletresponse', 'kubeletresponses'],
  namespace: 'secrets',
  sensitive: true,
  printColumns: [
    { name: 'CLIENT', value: (r) => r.spec.client?.requestedAt ?? '' },
    { name: 'SERVER', value: (r) => r.spec.server?.requestedAt ?? '' },
    { name: 'LAST ERROR', value: (r) => r.spec.failure?.message ?? '' },
  ],
  validate: specValidator('KubeletResponses', schema),
});
