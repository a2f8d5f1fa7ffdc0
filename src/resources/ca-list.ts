// The shape shared by a node's CA lists that the machine config has no field for (ExtraAcceptedCAs, CrossSignedCAs):
// PEM CA certificates and why they are there, in the config namespace, not sensitive (certificates only).
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { defineResource } from '../runtime/resource.js';
import type { ResourceDefinition } from '../runtime/resource.js';
import { specValidator } from './spec-schema.js';

/** A PEM CA certificate (BasicConstraints CA:TRUE), checked when the list is written. */
const caCertificatePem = z.string().superRefine((pem, ctx) => {
  try {
    if (!new X509Certificate(pem).ca) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'is not a CA certificate (BasicConstraints CA:TRUE is missing)' });
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'expected a PEM "CERTIFICATE" block' });
  }
});

const schema = z
  .object({
    crts: z.array(caCertificatePem),
    /** Who put them there and why (the rotation), for whoever reads `trustctl get`. */
    reason: z.string(),
  })
  .strict();
export type CAListSpec = z.infer<typeof schema>;

export function defineCAList(type: string, aliases: string[]): ResourceDefinition<CAListSpec> {
  return defineResource<CAListSpec>({
    type,
    aliases,
    namespace: 'config',
    sensitive: false,
    printColumns: [
      { name: 'CAS', value: (r) => r.spec.crts.map((p) => new X509Certificate(p).fingerprint256.slice(0, 23)).join(',') },
      { name: 'REASON', value: (r) => r.spec.reason },
    ],
    validate: specValidator(type, schema),
  });
}
