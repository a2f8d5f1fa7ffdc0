// Talos API client certificates (the credentials in a talosconfig), issued offline from the OS CA.
import { caFromPem, issueCertificateAndKey, lifetimeProblem } from '../pki/index.js';
import type { SigningCA } from '../pki/index.js';
import { ConfigError } from './config-error.js';
import type { Role } from './roles.js';
import type { PemCertAndKey } from './secrets-bundle.js';

export const CLIENT_CERT_VALIDITY_HOURS = 8760;

export interface ClientCertificateOptions {
  roles: readonly Role[];
  validityHours?: number;
  now?: Date;
  /** Loads the OS CA; default: its PEM key in memory. Commands given a PKCS#11 token pass one that signs there. */
  signingCA?: (osCA: PemCertAndKey) => SigningCA;
}

export interface ClientCertificate extends PemCertAndKey {
  /** Set when the lifetime asked for ran past the OS CA's end: the certificate ends with the CA, at this time. */
  clampedTo?: Date;
}

/** A client certificate (EKU clientAuth only, O = roles) and its key, whose type follows the CA's. */
export async function issueClientCertificate(osCA: PemCertAndKey, options: ClientCertificateOptions): Promise<ClientCertificate> {
  const hours = options.validityHours ?? CLIENT_CERT_VALIDITY_HOURS;
  if (!(hours > 0)) throw new ConfigError('', 'crt_ttl should be positive');
  const outOfRange = lifetimeProblem(hours);
  if (outOfRange) throw new ConfigError('crt_ttl', outOfRange);
  if (!osCA.key) throw new ConfigError('os CA', 'the OS CA key is missing (a worker config holds only the certificate); use the secrets bundle or a control plane config');
  const ca = options.signingCA ? options.signingCA(osCA) : caFromPem(osCA.crt, osCA.key);
  const issued = await issueCertificateAndKey(ca, 'talos-client', {
    organizations: [...options.roles],
    validityHours: hours,
    now: options.now ?? new Date(),
    algorithm: ca.signer.algorithm,
    ...(ca.signer.algorithm === 'rsa' && ca.signer.rsaBits ? { rsaBits: rsaBitsOf(ca.signer.rsaBits) } : {}),
  });
  return { crt: issued.certPem, key: issued.keyPem, ...(issued.clampedTo ? { clampedTo: issued.clampedTo } : {}) };
}

function rsaBitsOf(bits: number): 2048 | 3072 | 4096 {
  return bits >= 4096 ? 4096 : bits >= 3072 ? 3072 : 2048;
}
