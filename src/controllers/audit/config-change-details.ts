// The details of a machine-config-changed record: how it was changed and the paths of the fields that differ
// between the stored config and the new one; values are never copied (the config holds CA keys and tokens).
import { parseMachineConfig } from '../../config/index.js';
import type { AuditDetails } from '../../resources/audit-records.js';
import { changedFieldPaths } from './changed-fields.js';

export function configChangeDetails(via: string, beforeYaml: string | undefined, afterYaml: string): AuditDetails {
  const before = beforeYaml === undefined ? [] : documentsOf(beforeYaml);
  const after = documentsOf(afterYaml);
  const single = before.length <= 1 && after.length === 1;
  const fields = single ? changedFieldPaths(before[0] ?? {}, after[0]) : changedFieldPaths(before, after);
  return { via, fields, ...(beforeYaml === undefined ? { created: true } : {}) };
}

function documentsOf(yaml: string): unknown[] {
  try {
    return parseMachineConfig(yaml).toJS();
  } catch {
    // The stored config may predate a validation rule; its paths still count as changed.
    return [];
  }
}
