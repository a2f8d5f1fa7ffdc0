// The pki and config pieces the apid tests build credentials from, in one import.
import { generateSecretsBundle } from '../../src/config/index.js';
import type { SecretsBundle } from '../../src/config/index.js';

export { caFromPem, encodePrivateKeyPkcs8Pem, generateKeyPairSync, issueCertificateAndKey, parsePrivateKeyPem } from '../../src/pki/index.js';

/** A second cluster's secrets: its OS CA is an unknown authority to the node under test. */
export function generateSecretsBundleFor(now: Date): Promise<SecretsBundle> {
  return generateSecretsBundle({ now });
}
