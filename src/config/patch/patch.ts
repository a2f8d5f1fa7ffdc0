// The two kinds of machine config patch Talos accepts: a strategic merge (partial config documents) and an RFC 6902
// JSON patch (a list of operations). Both keep the parsed YAML so errors can point at a line of the patch.
import type { Document, LineCounter } from 'yaml';

export interface StrategicMergePatch {
  kind: 'strategic';
  /** The file it came from, or "patch" for inline text: the start of every error message. */
  source: string;
  documents: Document[];
  lines: LineCounter;
}

export const JSON_PATCH_OPS = ['add', 'remove', 'replace', 'move', 'copy', 'test'] as const;
export type JsonPatchOpName = (typeof JSON_PATCH_OPS)[number];

export interface JsonPatchOperation {
  op: JsonPatchOpName;
  path: string;
  from?: string;
  value?: unknown;
}

export interface JsonPatch {
  kind: 'json6902';
  source: string;
  operations: JsonPatchOperation[];
}

export type MachineConfigPatch = StrategicMergePatch | JsonPatch;

/** `op 2 (replace /machine/foo)`: operations are counted from 1, as a person reads the list. */
export function describeOperation(index: number, op: JsonPatchOperation): string {
  return `op ${index + 1} (${op.op} ${op.path})`;
}
