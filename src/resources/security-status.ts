// SecurityStatuses (runtime/securitystatus): the roll-up a cron job or CI gates on.
import { z } from 'zod';
import { defineResource } from '../runtime/resource.js';
import { CA_NAMES, isoTime } from './common.js';
import { CERTIFICATE_STATES } from './certificate-status.js';
import { specValidator } from './spec-schema.js';

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

const findingSchema = z
  .object({ severity: z.enum(SEVERITIES), code: z.string(), subject: z.string(), message: z.string() })
  .strict();
export type Finding = z.infer<typeof findingSchema>;

const schema = z
  .object({
    healthy: z.boolean(),
    worstState: z.enum(CERTIFICATE_STATES),
    certificates: z.number().int().nonnegative(),
    soonestExpiry: z.object({ certificate: z.string(), notAfter: isoTime }).strict().optional(),
    cas: z.array(z.object({ name: z.enum(CA_NAMES), algorithm: z.string(), notAfter: isoTime }).strict()),
    rotationInProgress: z.array(z.string()),
    encryptedAtRest: z.boolean(),
    /** Revocations in force on this node (an expired certificate's entry stays as a record, but needs no refusing). */
    revocations: z.number().int().nonnegative(),
    findings: z.array(findingSchema),
  })
  .strict();
export type SecurityStatusSpec = z.infer<typeof schema>;

export const SECURITY_STATUS_ID = 'securitystatus';

export const SecurityStatuses = defineResource<SecurityStatusSpec>({
  type: 'SecurityStatuses',
  aliases: ['securitystatus', 'securitystatuses', 'ss', 'secstatus'],
  namespace: 'runtime',
  sensitive: false,
  printColumns: [
    { name: 'HEALTHY', value: (r) => String(r.spec.healthy) },
    { name: 'WORST', value: (r) => r.spec.worstState },
    { name: 'SOONEST EXPIRY', value: (r) => (r.spec.soonestExpiry ? `${r.spec.soonestExpiry.certificate} ${r.spec.soonestExpiry.notAfter.slice(0, 10)}` : '-') },
    { name: 'FINDINGS', value: (r) => String(r.spec.findings.length) },
    { name: 'ENCRYPTED', value: (r) => String(r.spec.encryptedAtRest) },
  ],
  validate: specValidator('SecurityStatuses', schema),
});
