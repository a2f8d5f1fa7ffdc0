// The details of a machine-config-changed record: how it was changed and the paths of the fields that differ
// between the stored config and the new one; values are never copied (the config holds CA keys and tokens).
import { parseMachineConfig } from '../../config/index.js';
import type { AuditDetails } from '../../resources/audit-records.js';
import { changedFieldPaths } from './changed-fields.js';

/** A first config (no `before`) is marked `created`, without listing every field it sets. */
export function configChangeDetails(via: string, beforeYaml: string | undefined, afterYaml: string): AuditDetails {
  return configChangeDetailsOf(via, beforeYaml === undefined ? undefined : configDocuments(beforeYaml), configDocuments(afterYaml));
}

/** configChangeDetails of configs already parsed (configDocuments), for a caller that compared them anyway. */
export function configChangeDetailsOf(via: string, before: readonly unknown[] | undefined, after: readonly unknown[]): AuditDetails {
  if (before === undefined) return { via, created: true, fields: [] };
  const fields: string[] = [];
  // The v1alpha1 document's paths read as Talos writes them (machine.certSANs); later documents are prefixed.
  for (let i = 0; i < Math.max(before.length, after.length); i++) {
    fields.push(...changedFieldPaths(before[i] ?? {}, after[i] ?? {}, i === 0 ? '' : `documents[${i}]`));
  }
  return { via, fields };
}

/** The plain data of each document of a config; none when it cannot be parsed. */
export function configDocuments(yaml: string): unknown[] {
  try {
    return parseMachineConfig(yaml).toJS();
  } catch {
    // The stored config may predate a validation rule; its paths still count as changed.
    return [];
  }
}
