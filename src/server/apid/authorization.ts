// Roles (from the client certificate's Organization) and what each may do. Talos's rule: a call not listed for a
// role is admin-only, and a refusal reads `not authorized`.
export const IMPERSONATOR_ROLE = 'os:impersonator';

/**
 * - read: get/list/watch of non-sensitive resources, version.
 * - readSensitive: get/list/watch of sensitive resources (MachineConfig, every secret).
 * - etcdBackup: the store snapshot (it holds the sealed secrets; the key stays on the node).
 * - logs: the services' log lines (`talosctl logs` is operator and admin upstream).
 * - admin: apply-config, patch, config new, join tokens.
 * - audit: the audit trail (AuditRecords, AuditHeads, `audit verify`): who did what is for those who run the cluster,
 *   not for every reader.
 */
export type Permission = 'read' | 'readSensitive' | 'etcdBackup' | 'logs' | 'admin' | 'audit';

const GRANTS: Record<string, readonly Permission[]> = {
  'os:admin': ['read', 'readSensitive', 'etcdBackup', 'logs', 'admin', 'audit'],
  // What operator adds over reader here: the store snapshot, the service logs and the audit trail. (Upstream it also restarts services; trustplane runs none.)
  'os:operator': ['read', 'etcdBackup', 'logs', 'audit'],
  'os:reader': ['read'],
  'os:etcd:backup': ['etcdBackup'],
};

export const NOT_AUTHORIZED = 'not authorized';

export function allows(roles: readonly string[], permission: Permission): boolean {
  return roles.some((role) => GRANTS[role]?.includes(permission) ?? false);
}

/** The roles a request acts with: its own, or, from an impersonator (a forwarding node), those it passes on. */
export function effectiveRoles(certRoles: readonly string[], forwardedRoles: string | undefined): string[] {
  if (!certRoles.includes(IMPERSONATOR_ROLE)) return [...certRoles];
  if (!forwardedRoles) return [];
  return forwardedRoles
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r && r !== IMPERSONATOR_ROLE);
}
