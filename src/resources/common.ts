// Shapes shared by the secret resources: PEM pairs and certificates issued by a controller with their bookkeeping.
import { z } from 'zod';

export const CA_NAMES = ['os', 'kubernetes', 'etcd', 'aggregator'] as const;
export type CaName = (typeof CA_NAMES)[number];

const ROTATE_FLAG: Record<CaName, string> = { os: '--talos', kubernetes: '--kubernetes', etcd: '--etcd', aggregator: '--aggregator' };

/** The command that replaces `ca`, for the messages that tell a person to. */
export function rotateCaCommand(ca: CaName): string {
  return `trustctl rotate-ca ${ROTATE_FLAG[ca]}`;
}

/** Why a certificate was (or will be) issued; cert-manager's vocabulary. */
export const ISSUE_REASONS = ['DoesNotExist', 'Expired', 'Renewing', 'IncorrectIssuer', 'RequestChanged', 'SecretMismatch', 'Invalid'] as const;
export type IssueReason = (typeof ISSUE_REASONS)[number];

const isoTime = z.string().datetime({ offset: true });

export const pemPairSchema = z.object({ crt: z.string().min(1), key: z.string() }).strict();
export type PemPair = z.infer<typeof pemPairSchema>;

export const certificateRequestSchema = z
  .object({
    profile: z.string().min(1),
    commonName: z.string(),
    organizations: z.array(z.string()),
    dnsNames: z.array(z.string()),
    ipAddresses: z.array(z.string()),
    validityHours: z.number().positive(),
  })
  .strict();
/** What was asked for; compared with what is wanted now to detect RequestChanged without re-parsing the certificate. */
export type CertificateRequest = z.infer<typeof certificateRequestSchema>;

export const issuedCertificateSchema = z
  .object({
    crt: z.string().min(1),
    key: z.string().min(1),
    issuer: z.enum(CA_NAMES),
    request: certificateRequestSchema,
    issuedAt: isoTime,
    renewAt: isoTime,
    reason: z.enum(ISSUE_REASONS),
    /** What made the policy fire (`SAN +10.100.0.1, SAN -10.96.0.1`), so status says why, not only which reason. */
    reasonMessage: z.string().optional(),
  })
  .strict();
export type IssuedCertificate = z.infer<typeof issuedCertificateSchema>;

export const issuedSetSchema = z.record(z.string(), issuedCertificateSchema);
export type IssuedSet = z.infer<typeof issuedSetSchema>;

export { isoTime };
