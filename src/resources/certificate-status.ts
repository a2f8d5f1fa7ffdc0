// CertificateStatuses (runtime/<id>): what a person asks about one certificate or CA: who, by whom, until when, and why
// it will be replaced. Residual time is computed when printed, so it is never stale.
import { z } from 'zod';
import { defineResource } from '../runtime/resource.js';
import { CA_NAMES, ISSUE_REASONS, isoTime } from './common.js';
import { specValidator } from './spec-schema.js';
import { humanDuration } from './human-duration.js';

export const CERTIFICATE_STATES = ['Valid', 'Renewing', 'ExpiringSoon', 'Expired', 'NotYetValid', 'Invalid', 'Pending'] as const;
export type CertificateState = (typeof CERTIFICATE_STATES)[number];

const schema = z
  .object({
    /** Where the certificate lives: `<Type>/<id>` and its name in the set (or `ca`). */
    source: z.object({ type: z.string(), id: z.string(), name: z.string() }).strict(),
    kind: z.enum(['ca', 'leaf']),
    issuerCA: z.enum(CA_NAMES),
    subject: z.string(),
    issuer: z.string(),
    serial: z.string(),
    sha256Fingerprint: z.string(),
    dnsNames: z.array(z.string()),
    ipAddresses: z.array(z.string()),
    keyAlgorithm: z.string(),
    keySize: z.number().int().nonnegative(),
    notBefore: isoTime.optional(),
    notAfter: isoTime.optional(),
    /** When it will be re-issued automatically; absent for what we do not renew (CAs, user-held client certs). */
    renewalTime: isoTime.optional(),
    autoRenewed: z.boolean(),
    state: z.enum(CERTIFICATE_STATES),
    message: z.string(),
    chainsToAcceptedCA: z.boolean(),
    lastIssuanceReason: z.enum(ISSUE_REASONS).optional(),
    /** The detail of lastIssuanceReason: for RequestChanged, the names or subject that changed. */
    lastIssuanceMessage: z.string().optional(),
    nextIssuanceReason: z.enum(ISSUE_REASONS).optional(),
    lastRenewal: isoTime.optional(),
    failures: z.number().int().nonnegative(),
    lastFailure: z.string().optional(),
    nextRetry: isoTime.optional(),
  })
  .strict();
export type CertificateStatusSpec = z.infer<typeof schema>;

const day = (iso: string | undefined) => (iso ? iso.slice(0, 16).replace('T', ' ') : '-');

export const CertificateStatuses = defineResource<CertificateStatusSpec>({
  type: 'CertificateStatuses',
  aliases: ['certificatestatus', 'certificatestatuses', 'cs', 'certstatus'],
  namespace: 'runtime',
  sensitive: false,
  printColumns: [
    { name: 'SUBJECT', value: (r) => r.spec.subject },
    { name: 'CA', value: (r) => r.spec.issuerCA },
    { name: 'NOT AFTER', value: (r) => day(r.spec.notAfter) },
    { name: 'RESIDUAL', value: (r) => (r.spec.notAfter ? humanDuration(Date.parse(r.spec.notAfter) - Date.now()) : '-') },
    { name: 'RENEW AT', value: (r) => day(r.spec.renewalTime) },
    { name: 'STATE', value: (r) => r.spec.state },
  ],
  validate: specValidator('CertificateStatuses', schema),
});
