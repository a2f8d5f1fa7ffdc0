// Revocations (secrets/<ca>-<serial>): one revoked certificate, recorded by `trustctl revoke` on a control plane and
// replicated to every node; apid refuses it, trustd issues nothing more to its names, and the CRL controller lists it.
// Not sensitive: it names the certificate (serial, subject, fingerprint) and why, never a key.
import { z } from 'zod';
import { REVOCATION_REASON_NAMES } from '../pki/crl.js';
import type { RevocationReasonCode } from '../pki/crl.js';
import { defineResource } from '../runtime/resource.js';
import { CA_NAMES, isoTime } from './common.js';
import type { CaName } from './common.js';
import { specValidator } from './spec-schema.js';

/** Longest reason text kept: a sentence, not a document (it is shown in every refusal of the certificate). */
export const MAX_REASON_LENGTH = 200;

const SERIAL = /^[0-9a-f]{1,40}$/;

const schema = z
  .object({
    ca: z.enum(CA_NAMES),
    /** Lower-case hex without leading zeros (normalSerial). */
    serial: z.string().regex(SERIAL, 'expected 1 to 40 lower-case hex digits'),
    /** The certificate's subject and SHA-256 fingerprint when it was known (given as a file or found on the node). */
    subject: z.string(),
    fingerprint: z.string(),
    /** DNS names and IPs the certificate was issued for: trustd signs nothing more for them while revoked. */
    names: z.array(z.string().min(1)),
    /** SHA-256 of the certificate's public key (hex), when known: trustd signs nothing more for that key. */
    publicKey: z.string(),
    /** When the certificate expires (or its CA, when the certificate itself was not at hand): the entry drops then. */
    notAfter: isoTime,
    reason: z.string().min(1).max(MAX_REASON_LENGTH),
    reasonCode: z.enum(REVOCATION_REASON_NAMES as [RevocationReasonCode, ...RevocationReasonCode[]]),
    revokedAt: isoTime,
    /** Who revoked it: the caller's certificate subject, or `local (--state DIR)`. */
    revokedBy: z.string().min(1),
  })
  .strict();
export type RevocationSpec = z.infer<typeof schema>;

/** Annotations apid sets when the revoked certificate is presented to it: when, and from which address. */
export const PRESENTED_AT = 'trustplane.dev/last-presented';
export const PRESENTED_FROM = 'trustplane.dev/last-presented-from';

/** `os-4f1a...`: one id per CA and serial, so revoking twice is one entry. */
export const revocationId = (ca: CaName, serial: string): string => `${ca}-${serial}`;

/** Serials as stored and looked up: lower-case hex without leading zeros (node prints them upper-case, padded). */
export const normalSerial = (hex: string): string => hex.toLowerCase().replace(/^0+(?=.)/, '');

export const Revocations = defineResource<RevocationSpec>({
  type: 'Revocations',
  aliases: ['revocation', 'revocations', 'revoked', 'rev'],
  namespace: 'secrets',
  sensitive: false,
  printColumns: [
    { name: 'CA', value: (r) => r.spec.ca },
    { name: 'SUBJECT', value: (r) => r.spec.subject || '(unknown)' },
    { name: 'REVOKED', value: (r) => r.spec.revokedAt.slice(0, 16).replace('T', ' ') },
    { name: 'BY', value: (r) => r.spec.revokedBy },
    { name: 'REASON', value: (r) => `${r.spec.reasonCode}: ${r.spec.reason}` },
    { name: 'NOT AFTER', value: (r) => r.spec.notAfter.slice(0, 10) },
  ],
  validate: specValidator('Revocations', schema),
});
