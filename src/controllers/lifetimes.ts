// How long each issued certificate lives. Defaults are upstream Talos's (REFERENCE §6); `serve` may override them,
// and simulations shorten them to exercise many renewals quickly.
import { checkLifetime } from '../pki/index.js';

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

/** The defaults with `overrides`, each checked against the bounds every lifetime has (1h to 100 years). */
export function lifetimesWith(overrides: Partial<CertificateLifetimes> = {}): CertificateLifetimes {
  const lifetimes = { ...DEFAULT_LIFETIMES, ...overrides };
  for (const [name, hours] of Object.entries(lifetimes)) checkLifetime(`lifetimes.${name}`, hours);
  return lifetimes;
}
