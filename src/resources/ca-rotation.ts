// CARotations (runtime/<ca>): a CA rotation across the cluster, as durable state the rotation driver moves through its
// phases and people watch (`trustctl get carotation -w`). Not sensitive: it names the CAs by subject and fingerprint
// only. The keys a rotation needs (to mint the old and new client certificates it checks connectivity with, and to
// hand the new CA to control planes) live in the sensitive companion CARotationSecrets (secrets/<ca>).
import { z } from 'zod';
import { defineResource } from '../runtime/resource.js';
import { isoTime, pemPairSchema } from './common.js';
import { specValidator } from './spec-schema.js';

/**
 * The CAs a rotation can replace: the Talos API (os) CA and the Kubernetes CA through their acceptedCAs in the machine
 * config, and the etcd and aggregator CAs, which have no accepted list there (their overlap goes to ExtraAcceptedCAs).
 */
export const ROTATABLE_CAS = ['os', 'kubernetes', 'etcd', 'aggregator'] as const;
export type RotatableCA = (typeof ROTATABLE_CAS)[number];

/** The CAs whose overlap (old and new both trusted) lives in the machine config's acceptedCAs. */
export const hasAcceptedList = (ca: RotatableCA): boolean => ca === 'os' || ca === 'kubernetes';

/** In order; a rotation and each node only ever move forward through them. */
export const ROTATION_PHASES = ['Staged', 'NewCAAccepted', 'NewCAIssuing', 'LeavesReissued', 'OldCADropped', 'Done'] as const;
export type RotationPhase = (typeof ROTATION_PHASES)[number];

export const phaseIndex = (phase: RotationPhase): number => ROTATION_PHASES.indexOf(phase);

const nodeSchema = z
  .object({
    /** host:port of the node's apid, as the driver reaches it. */
    address: z.string().min(1),
    role: z.enum(['controlplane', 'worker']),
    /** The last phase this node has reached (its config written and its root secrets and leaves following it). */
    phase: z.enum(ROTATION_PHASES),
    /** The last failure on this node, cleared when it moves on. */
    error: z.string().optional(),
  })
  .strict();
export type RotationNode = z.infer<typeof nodeSchema>;

const schema = z
  .object({
    ca: z.enum(ROTATABLE_CAS),
    phase: z.enum(ROTATION_PHASES),
    /** Control planes first, then workers: the order every phase visits them in. */
    nodes: z.array(nodeSchema).min(1),
    newCA: z.object({ subject: z.string(), fingerprint: z.string().min(1), notAfter: isoTime }).strict(),
    oldCA: z.object({ subject: z.string(), fingerprint: z.string().min(1) }).strict(),
    /**
     * An etcd rotation's members (host:port of each client URL): when set, a phase is reached only once every member
     * shows it over TLS (etcd reads its trusted CA files only at start-up, so this waits for their restarts).
     */
    etcdEndpoints: z.array(z.string().min(1)).optional(),
    lastError: z.string().optional(),
    started: isoTime,
    updated: isoTime,
  })
  .strict();
export type CARotationSpec = z.infer<typeof schema>;

/** Who writes CARotations besides the apid call that creates them. */
export const ROTATION_DRIVER_OWNER = 'rotation-driver';

export const CARotations = defineResource<CARotationSpec>({
  type: 'CARotations',
  aliases: ['carotation', 'carotations', 'car', 'rotation'],
  namespace: 'runtime',
  sensitive: false,
  printColumns: [
    { name: 'PHASE', value: (r) => r.spec.phase },
    { name: 'NODES', value: (r) => r.spec.nodes.map((n) => `${n.address}=${n.phase}`).join(',') },
    { name: 'NEW CA', value: (r) => r.spec.newCA.fingerprint.slice(0, 23) },
    { name: 'LAST ERROR', value: (r) => r.spec.lastError ?? '' },
  ],
  validate: specValidator('CARotations', schema),
});

const secretsSchema = z
  .object({
    oldCA: pemPairSchema,
    newCA: pemPairSchema,
    /** The Talos API rotation's new CA cross-signed by the old one (see CrossSignedCAs); absent for the other CAs. */
    crossSigned: z.string().min(1).optional(),
  })
  .strict();
export type CARotationSecretsSpec = z.infer<typeof secretsSchema>;

export const CARotationSecrets = defineResource<CARotationSecretsSpec>({
  type: 'CARotationSecrets',
  aliases: ['carotationsecret', 'carotationsecrets'],
  namespace: 'secrets',
  sensitive: true,
  printColumns: [],
  validate: specValidator('CARotationSecrets', secretsSchema),
});
