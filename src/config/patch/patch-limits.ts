// Bounds on what patching may build. RFC 6902 `copy` of a subtree into itself doubles the document per operation:
// 18 operations in a 2 KB request once reached 1.1 GB. The size is tracked as the operations run, so the operation
// that crosses the bound is refused before the next one can double it again.
import { isMap, isPair, isScalar, isSeq } from 'yaml';
import { PatchError } from './patch-error.js';

/** Operations in one RFC 6902 patch. */
export const MAX_PATCH_OPERATIONS = 1000;
/** About the YAML size of a patched document, in bytes: a real machine config is 10-60 KB. */
export const MAX_PATCHED_SIZE = 1024 * 1024;

/** The patch would make the config too large, or has too many operations: HTTP 413 over the API. */
export class PatchTooLarge extends PatchError {
  constructor(where: string, problem: string) {
    super(where, problem);
    this.name = 'PatchTooLarge';
  }
}

export function checkOperationCount(source: string, count: number): void {
  if (count > MAX_PATCH_OPERATIONS)
    throw new PatchTooLarge(source, `has ${count} operations, more than the ${MAX_PATCH_OPERATIONS} allowed in one patch; split it into several patches`);
}

export function checkPatchedSize(where: string, size: number): void {
  if (size > MAX_PATCHED_SIZE)
    throw new PatchTooLarge(where, `the patched document would be about ${Math.ceil(size / 1024)} KiB, more than the ${MAX_PATCHED_SIZE / 1024} KiB allowed (a copy into itself?); nothing was applied`);
}

/** Roughly the bytes `node` takes as YAML: scalar text plus a little for each key and item. Cheap, no stringify. */
export function yamlSize(node: unknown): number {
  if (isMap(node)) return node.items.reduce<number>((n, p) => n + (isPair(p) ? yamlSize(p.key) + yamlSize(p.value) + 2 : 0), 2);
  if (isSeq(node)) return node.items.reduce<number>((n, item) => n + yamlSize(item) + 2, 2);
  if (isScalar(node)) return String(node.value).length + 1;
  return 1;
}
