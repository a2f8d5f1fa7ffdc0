// The public face of src/config: secrets bundle, machine config v1alpha1 and talosconfig.
export { ConfigError, MultiError } from './config-error.js';
export type { PemCertAndKey, PemKey, SecretsBundle, SecretsBundleDraft } from './secrets-bundle.js';
export { parseSecretsBundle, formatSecretsBundleYaml, formatSecretsBundleJson } from './secrets-bundle-codec.js';
export { secretsBundleProblems, validateSecretsBundle } from './secrets-bundle-validate.js';
export { generateSecretsBundle, CA_VALIDITY_HOURS } from './secrets-bundle-generate.js';
export type { GenerateSecretsOptions, SuppliedSecrets } from './secrets-bundle-generate.js';
export { readKubernetesPki } from './kubernetes-pki.js';
export { randomToken, isToken, TOKEN_PATTERN } from './random-token.js';
export { MachineConfig, parseMachineConfig, MACHINE_TYPES, fieldName } from './machine-config.js';
export type { MachineType, MachineConfigPki } from './machine-config.js';
export { machineConfigProblems, validateMachineConfig, endpointProblem } from './machine-config-validate.js';
export type { ValidateOptions } from './machine-config-validate.js';
export { caPairProblem } from './pem-check.js';
export { generateMachineConfig, DEFAULT_KUBERNETES_VERSION } from './machine-config-generate.js';
export type { GenerateMachineConfigOptions } from './machine-config-generate.js';
export { isIPAddress, isDNSName, subjectAltNameProblem } from './subject-alt-name.js';
export { firstServiceAddress, DEFAULT_DNS_DOMAIN, DEFAULT_LOCAL_API_SERVER_PORT } from './cluster-network.js';
export {
  parseTalosconfig,
  formatTalosconfig,
  newContext,
  contextCredentials,
  selectContext,
  mergeTalosconfig,
} from './talosconfig.js';
export type { Talosconfig, TalosContext, ContextCredentials, Rename } from './talosconfig.js';
export { defaultTalosconfigPath, resolveTalosconfigPath, readTalosconfigFile } from './talosconfig-file.js';
export { ROLES, parseRoles, contextNameFor } from './roles.js';
export type { Role } from './roles.js';
export { issueClientCertificate, CLIENT_CERT_VALIDITY_HOURS } from './client-certificate.js';
export type { ClientCertificate, ClientCertificateOptions } from './client-certificate.js';
export { encodePemField, decodePemField } from './pem-field.js';
export { loadPatches, parsePatch, parsePatches, applyPatches, patchYaml, PatchedConfigInvalid, PatchError, MULTI_DOCUMENT_REFUSAL } from './patch/index.js';
export { PatchTooLarge, MAX_PATCH_OPERATIONS, MAX_PATCHED_SIZE } from './patch/index.js';
export type { MachineConfigPatch, PatchResult } from './patch/index.js';
