// Patches for PATCH /v1/machineconfig: each text (strategic merge or RFC 6902) is parsed and applied by src/config's
// patch module, so the API and the local CLI patch identically and report errors with the same lines.
import { MachineConfig, PatchTooLarge, applyPatches, parsePatch } from '../../config/index.js';
import { ApiError } from './api-error.js';

export interface PatchText {
  /** Where the text came from (a file name), the start of every error message about it. */
  source: string;
  text: string;
}

/**
 * The patched config's YAML; throws PatchError or PatchedConfigInvalid (nothing is written by the caller then), and
 * a 413 when the patch would grow the config past its bound or has too many operations.
 */
export function patchMachineConfig(yaml: string, patches: readonly PatchText[]): { yaml: string; changed: boolean } {
  const config = MachineConfig.parse(yaml, 'stored machine config');
  try {
    const result = applyPatches(
      config,
      patches.map((p) => parsePatch(p.text, p.source)),
    );
    return { yaml: result.config.toYaml(), changed: result.changed };
  } catch (err) {
    if (err instanceof PatchTooLarge) throw new ApiError(413, err.message);
    throw err;
  }
}
