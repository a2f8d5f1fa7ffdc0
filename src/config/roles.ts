// Talos API roles, carried in a client certificate's Organization.
import { ConfigError } from './config-error.js';

export const ROLES = ['os:admin', 'os:operator', 'os:reader', 'os:etcd:backup', 'os:impersonator'] as const;
export type Role = (typeof ROLES)[number];

/** Splits comma lists, trims, de-duplicates and sorts (Talos sorts the Organization). */
export function parseRoles(values: readonly string[], field = '--roles'): Role[] {
  const roles = new Set<Role>();
  const unknown: string[] = [];
  for (const value of values.flatMap((v) => v.split(','))) {
    const role = value.trim();
    if (!role) continue;
    if ((ROLES as readonly string[]).includes(role)) roles.add(role as Role);
    else unknown.push(role);
  }
  if (unknown.length > 0) throw new ConfigError(field, `unknown roles: ${unknown.join(', ')} (known roles: ${ROLES.join(', ')})`);
  if (roles.size === 0) throw new ConfigError(field, `at least one role is required (known roles: ${ROLES.join(', ')})`);
  return [...roles].sort();
}

/** `reader@prod` for a single role, else the cluster name: the context name talosctl gives a new config. */
export function contextNameFor(roles: readonly string[], clusterName: string): string {
  return roles.length === 1 ? `${roles[0].replace(/^os:/, '')}@${clusterName}` : clusterName;
}
