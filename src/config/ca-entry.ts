// A CA as a bundle or machine config entry gives it ({crt, key}), loaded to sign with in memory. Kept apart from
// token-cas.ts so that commands without a PKCS#11 token never load the binding, yet meet a URI key with a clear error.
import { caFromPem } from '../pki/index.js';
import type { CertificateAuthority } from '../pki/index.js';
import { isPkcs11Uri } from '../pki/pkcs11/pkcs11-uri.js';
import { ConfigError } from './config-error.js';
import type { PemCertAndKey } from './secrets-bundle.js';

export const PKCS11_FLAGS_FIX = 'give --pkcs11-module, --pkcs11-token and --pkcs11-pin-file (or TRUSTPLANE_PKCS11_MODULE, _TOKEN, _PIN_FILE)';

/** `field` names the entry in errors (`certs.os`, `machine.ca`). */
export function memoryCaOf(pair: PemCertAndKey, field: string): CertificateAuthority {
  if (isPkcs11Uri(pair.key)) throw new ConfigError(`${field}.key`, `the CA key is in a PKCS#11 token (${pair.key}); ${PKCS11_FLAGS_FIX}`);
  return caFromPem(pair.crt, pair.key);
}
