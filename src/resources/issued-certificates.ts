// The certificate sets issuing controllers write. Each holds named certificates with their bookkeeping (request,
// issue time, renewal time, reason), so status and re-issue decisions never need to guess.
import { z } from 'zod';
import { defineResource } from '../runtime/resource.js';
import type { ResourceDefinition } from '../runtime/resource.js';
import { issuedSetSchema } from './common.js';
import { specValidator } from './spec-schema.js';

const issuedSpec = z
  .object({
    certificates: issuedSetSchema,
    /** PEM bundle the holder trusts for its peers (accepted CAs of the issuing CA). */
    acceptedCAs: z.array(z.string().min(1)),
    /** Set while a certificate cannot be issued yet (e.g. a worker waiting for trustd): the reason, for status. */
    pending: z.string().optional(),
    /** Kubeconfig documents, for KubernetesSecrets. */
    kubeconfigs: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type IssuedCertificatesSpec = z.infer<typeof issuedSpec>;

function issuedCertificates(type: string, aliases: string[]): ResourceDefinition<IssuedCertificatesSpec> {
  return defineResource<IssuedCertificatesSpec>({
    type,
    aliases,
    namespace: 'secrets',
    sensitive: true,
    printColumns: [{ name: 'CERTIFICATES', value: (r) => Object.keys(r.spec.certificates).sort().join(',') || `(${r.spec.pending ?? 'none'})` }],
    validate: specValidator(type, issuedSpec),
  });
}

export const ApiCertificates = issuedCertificates('ApiCertificates', ['apicertificate', 'apicertificates', 'apicerts']);
export const TrustdCertificates = issuedCertificates('TrustdCertificates', ['trustdcertificate', 'trustdcertificates', 'trustdcerts']);
export const EtcdSecrets = issuedCertificates('EtcdSecrets', ['etcdsecret', 'etcdsecrets']);
export const KubernetesSecrets = issuedCertificates('KubernetesSecrets', ['kubernetessecret', 'kubernetessecrets', 'k8ssecrets']);

/** The kubelet's client and serving certificates: issued directly on a control plane, through trustd on a worker. */
export const KubeletCertificates = issuedCertificates('KubeletCertificates', ['kubeletcertificate', 'kubeletcertificates', 'kubeletcerts']);

export const ISSUED_CERTIFICATE_TYPES = [ApiCertificates, TrustdCertificates, EtcdSecrets, KubernetesSecrets, KubeletCertificates] as const;
