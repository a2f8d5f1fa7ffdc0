// How long each issued certificate lives. Defaults are upstream Talos's (REFERENCE §6); `serve` may override them,
// and simulations shorten them to exercise many renewals quickly.
export interface CertificateLifetimes {
  apiServerHours: number;
  impersonatorHours: number;
  trustdHours: number;
  etcdHours: number;
  kubernetesHours: number;
}

export const DEFAULT_LIFETIMES: Readonly<CertificateLifetimes> = {
  apiServerHours: 24,
  impersonatorHours: 24,
  trustdHours: 24,
  etcdHours: 87600,
  kubernetesHours: 8760,
};

export function lifetimesWith(overrides: Partial<CertificateLifetimes> = {}): CertificateLifetimes {
  return { ...DEFAULT_LIFETIMES, ...overrides };
}
