// Leaf profiles: the subject, usages and lifetime of each certificate Talos and kubeadm issue.
export type LeafProfile =
  | 'talos-client'
  | 'node-server'
  | 'trustd-server'
  | 'etcd-server'
  | 'etcd-peer'
  | 'etcd-client'
  | 'kube-apiserver'
  | 'apiserver-kubelet-client'
  | 'apiserver-etcd-client'
  | 'kubelet'
  | 'kubelet-server'
  | 'controller-manager'
  | 'scheduler'
  | 'front-proxy-client'
  | 'kube-admin'
  | 'impersonator';

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

export type ExtKeyUsageName = 'serverAuth' | 'clientAuth' | 'codeSigning' | 'emailProtection' | 'timeStamping' | 'ocspSigning';

export type CaRole = 'os' | 'kubernetes' | 'etcd' | 'aggregator';

export interface LeafProfileSpec {
  /** The CA that issues it, for documentation and checks by callers. */
  issuer: CaRole;
  commonName: string;
  /** The CN must be given by the caller (kubelet's system:node:<name>, etcd's hostname). */
  commonNameRequired?: boolean;
  organizations: readonly string[];
  /** Whether a caller may set organizations; server certificates never carry one (trustd strips it upstream). */
  organizationsAllowed: boolean;
  /** Sort organizations, as Talos does for role lists. */
  sortOrganizations?: boolean;
  keyUsage: readonly KeyUsageName[];
  /** Add keyEncipherment for RSA keys: RSA key transport needs it; it is meaningless for ECDSA and Ed25519. */
  keyEnciphermentForRsa: boolean;
  extKeyUsage: readonly ExtKeyUsageName[];
  validityHours: number;
  /**
   * DNS names always included (kube-apiserver's in-cluster service names that do not depend on the cluster; the
   * caller adds kubernetes.default.svc.<cluster.network.dnsDomain>, which pki cannot know).
   */
  defaultDnsNames?: readonly string[];
}

const YEAR = 8760;
const DAY = 24;
const TEN_YEARS = 87600;

const client = (issuer: CaRole, commonName: string, organizations: string[], validityHours = YEAR): LeafProfileSpec => ({
  issuer,
  commonName,
  organizations,
  organizationsAllowed: true,
  keyUsage: ['digitalSignature'],
  keyEnciphermentForRsa: true,
  extKeyUsage: ['clientAuth'],
  validityHours,
});

const server = (issuer: CaRole, commonName: string, validityHours: number, extKeyUsage: ExtKeyUsageName[] = ['serverAuth']): LeafProfileSpec => ({
  issuer,
  commonName,
  organizations: [],
  organizationsAllowed: false,
  keyUsage: ['digitalSignature'],
  keyEnciphermentForRsa: true,
  extKeyUsage,
  validityHours,
});

/**
 * Subjects and usages follow Talos (os CA) and kubeadm (Kubernetes, etcd, aggregator). One deliberate choice:
 * apiserver-kubelet-client and kube-admin carry O=system:masters (as Talos does), not kubeadm's newer
 * O=kubeadm:cluster-admins, which needs a ClusterRoleBinding that Talos clusters do not create.
 */
export const LEAF_PROFILES: Readonly<Record<LeafProfile, LeafProfileSpec>> = {
  'talos-client': { ...client('os', 'talosctl-client', ['os:admin']), sortOrganizations: true, keyEnciphermentForRsa: false },
  'node-server': server('os', 'talos-node', DAY),
  'trustd-server': server('os', 'trustd', DAY),
  impersonator: { ...client('os', 'impersonator', ['os:impersonator'], DAY), keyEnciphermentForRsa: false },
  'etcd-server': { ...server('etcd', 'etcd', TEN_YEARS, ['serverAuth', 'clientAuth']), commonNameRequired: true },
  'etcd-peer': { ...server('etcd', 'etcd-peer', TEN_YEARS, ['serverAuth', 'clientAuth']), commonNameRequired: true },
  'etcd-client': client('etcd', 'etcd-client', [], TEN_YEARS),
  'apiserver-etcd-client': client('etcd', 'kube-apiserver-etcd-client', [], YEAR),
  'kube-apiserver': {
    ...server('kubernetes', 'kube-apiserver', YEAR),
    defaultDnsNames: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
  },
  'apiserver-kubelet-client': client('kubernetes', 'kube-apiserver-kubelet-client', ['system:masters']),
  kubelet: { ...client('kubernetes', 'system:node:', ['system:nodes']), commonNameRequired: true },
  // O=system:nodes on the serving certificate too, as Kubernetes' kubelet-serving signer issues it (no role: servers
  // are not authenticated by their Organization).
  'kubelet-server': { ...server('kubernetes', 'kubelet', YEAR), commonNameRequired: true, organizationsAllowed: true },
  'controller-manager': client('kubernetes', 'system:kube-controller-manager', []),
  scheduler: client('kubernetes', 'system:kube-scheduler', []),
  'kube-admin': client('kubernetes', 'admin', ['system:masters']),
  'front-proxy-client': client('aggregator', 'front-proxy-client', []),
};

export const LEAF_PROFILE_NAMES = Object.keys(LEAF_PROFILES) as LeafProfile[];
