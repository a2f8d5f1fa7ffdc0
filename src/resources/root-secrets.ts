// Root secrets: the CAs (and what goes with them) that a node takes from its machine config. Sensitive: they hold keys.
import { z } from 'zod';
import { defineResource } from '../runtime/resource.js';
import { pemPairSchema } from './common.js';
import { specValidator } from './spec-schema.js';

const osSchema = z
  .object({
    issuingCA: pemPairSchema,
    /** PEM certificates trusted for client auth: machine.acceptedCAs plus the issuing CA. */
    acceptedCAs: z.array(z.string().min(1)),
    certSANs: z.object({ ips: z.array(z.string()), dnsNames: z.array(z.string()) }).strict(),
    token: z.string(),
    machineType: z.enum(['init', 'controlplane', 'worker']),
  })
  .strict();
export type OSRootSecretsSpec = z.infer<typeof osSchema>;

export const OSRootSecrets = defineResource<OSRootSecretsSpec>({
  type: 'OSRootSecrets',
  aliases: ['osrootsecret', 'osrootsecrets', 'osroot'],
  namespace: 'secrets',
  sensitive: true,
  printColumns: [],
  validate: specValidator('OSRootSecrets', osSchema),
});

const etcdSchema = z
  .object({
    ca: pemPairSchema,
    /** PEM certificates etcd trusts: the CA, plus the other CA while a rotation of the etcd CA overlaps them. */
    acceptedCAs: z.array(z.string().min(1)),
  })
  .strict();
export type EtcdRootSecretsSpec = z.infer<typeof etcdSchema>;

export const EtcdRootSecrets = defineResource<EtcdRootSecretsSpec>({
  type: 'EtcdRootSecrets',
  aliases: ['etcdrootsecret', 'etcdrootsecrets', 'etcdroot'],
  namespace: 'secrets',
  sensitive: true,
  printColumns: [],
  validate: specValidator('EtcdRootSecrets', etcdSchema),
});

const k8sSchema = z
  .object({
    ca: pemPairSchema,
    acceptedCAs: z.array(z.string().min(1)),
    aggregatorCA: pemPairSchema,
    /** The aggregator CA, plus the other one while a rotation of the aggregator CA overlaps them. */
    aggregatorAcceptedCAs: z.array(z.string().min(1)),
    serviceAccountKey: z.string().min(1),
    clusterName: z.string().min(1),
    endpoint: z.string().min(1),
    apiServerCertSANs: z.array(z.string()),
    /** cluster.network.dnsDomain: the suffix of kubernetes.default.svc.<domain>. */
    dnsDomain: z.string().min(1),
    /** The first address of each service subnet: the `kubernetes` service IP of each family. */
    apiServiceIPs: z.array(z.string().min(1)).min(1),
    /** cluster.controlPlane.localAPIServerPort: what controller-manager and scheduler dial on 127.0.0.1. */
    localAPIServerPort: z.number().int().min(1).max(65535),
    /** cluster.token (`abcdef.0123456789abcdef`): what a worker's first kubelet CSR to trustd is authenticated with. */
    bootstrapToken: z.string(),
  })
  .strict();
export type KubernetesRootSecretsSpec = z.infer<typeof k8sSchema>;

export const KubernetesRootSecrets = defineResource<KubernetesRootSecretsSpec>({
  type: 'KubernetesRootSecrets',
  aliases: ['kubernetesrootsecret', 'kubernetesrootsecrets', 'k8sroot'],
  namespace: 'secrets',
  sensitive: true,
  printColumns: [],
  validate: specValidator('KubernetesRootSecrets', k8sSchema),
});
