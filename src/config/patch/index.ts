// The public face of machine config patching: load patches, apply them (strategic merge or RFC 6902), validate.
export type { MachineConfigPatch, StrategicMergePatch, JsonPatch, JsonPatchOperation, JsonPatchOpName } from './patch.js';
export { parsePatch, parsePatches, loadPatches } from './load-patch.js';
export type { ReadPatchFile } from './load-patch.js';
export { applyPatches, patchYaml, PatchedConfigInvalid } from './apply-patches.js';
export type { PatchResult } from './apply-patches.js';
export { applyStrategicMerge } from './strategic-merge.js';
export { applyJsonPatch, MULTI_DOCUMENT_REFUSAL } from './json6902.js';
export { PatchError } from './patch-error.js';
export { PatchTooLarge, MAX_PATCH_OPERATIONS, MAX_PATCHED_SIZE } from './patch-limits.js';
