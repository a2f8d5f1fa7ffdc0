// Certificate authorities: the four Talos CA profiles, created fresh or loaded from PEM.
import { X509Certificate } from 'node:crypto';
import { buildCertificate, randomSerial, toSeconds } from './certificate-builder.js';
import { structureOf } from './certificate-structure.js';
import { PkiError } from './errors.js';
import {
  authorityKeyIdExtension,
  basicConstraintsExtension,
  extKeyUsageExtension,
  keyUsageExtension,
  subjectKeyIdExtension,
} from './extensions.js';
import type { KeyAlgorithm, KeyOptions, KeyPair } from './keys.js';
import { generateKeyPair, parsePrivateKeyPem, samePublicKey } from './keys.js';
import { checkLifetime } from './lifetime.js';
import { encodeName } from './name.js';
import { encodePem, parseCertificatePem } from './pem.js';
import { keyIdentifierOf, spkiOf } from './signature.js';

export interface CertificateAuthority {
  certPem: string;
  cert: X509Certificate;
  key: KeyPair;
}

/** os: the Talos API CA (O=talos); kubernetes (O=kubernetes); etcd (O=etcd); aggregator (CN=front-proxy). */
export type CaProfile = 'os' | 'kubernetes' | 'etcd' | 'aggregator';

export interface CreateCaOptions extends KeyOptions {
  /** Default ecdsa (P-256); Talos upstream uses ed25519 for the os CA. Ignored when `key` is given. */
  algorithm?: KeyAlgorithm;
  now?: Date;
  /** Default 87600 (10 years). */
  validityHours?: number;
  /** Use this key instead of generating one. */
  key?: KeyPair;
  /** Override the profile's subject. */
  commonName?: string;
  organizations?: string[];
}

export const CA_VALIDITY_HOURS = 87600;

/**
 * Upstream's aggregator CA has an empty subject; RFC 5280 and `openssl verify -x509_strict` refuse an empty issuer
 * name, so ours is CN=front-proxy (the name kubeadm gives it).
 */
export const CA_SUBJECTS: Readonly<Record<CaProfile, { commonName?: string; organizations?: string[] }>> = {
  os: { organizations: ['talos'] },
  kubernetes: { organizations: ['kubernetes'] },
  etcd: { organizations: ['etcd'] },
  aggregator: { commonName: 'front-proxy' },
};

export async function createCA(profile: CaProfile, options: CreateCaOptions = {}): Promise<CertificateAuthority> {
  const subject = CA_SUBJECTS[profile];
  if (!subject) throw new PkiError('InvalidOption', `CA profile: "${profile}" is unknown; use one of ${Object.keys(CA_SUBJECTS).join(', ')}`);
  const validityHours = options.validityHours ?? CA_VALIDITY_HOURS;
  if (!(validityHours > 0)) throw new PkiError('InvalidOption', `validityHours: must be positive, got ${validityHours}`);
  checkLifetime('validityHours', validityHours);
  const key = options.key ?? (await generateKeyPair(options.algorithm ?? 'ecdsa', options));
  const now = toSeconds(options.now ?? new Date());
  if (!Number.isFinite(now.getTime())) throw new PkiError('InvalidOption', 'now: is not a valid date');
  const spki = spkiOf(key.publicKey);
  const keyId = keyIdentifierOf(spki);
  const name = encodeName({ commonName: options.commonName ?? subject.commonName, organizations: options.organizations ?? subject.organizations });
  if (name.length <= 2) throw new PkiError('InvalidOption', `CA subject: must not be empty; give a commonName or organizations`);
  const der = buildCertificate(
    {
      serial: randomSerial(),
      issuerDer: name,
      subjectDer: name,
      notBefore: now,
      notAfter: new Date(now.getTime() + validityHours * 3_600_000),
      spki,
      extensions: [
        // cRLSign besides Talos's two: the CA signs its CRL (crl.ts), and OpenSSL refuses a CRL whose issuer lacks it.
        keyUsageExtension(['digitalSignature', 'keyCertSign', 'cRLSign']),
        extKeyUsageExtension(['serverAuth', 'clientAuth']),
        basicConstraintsExtension(true),
        subjectKeyIdExtension(keyId),
        authorityKeyIdExtension(keyId),
      ],
    },
    key.privateKey,
  );
  return { certPem: encodePem('CERTIFICATE', der), cert: new X509Certificate(der), key };
}

/** Loads a CA, checking that the key belongs to the certificate and that the certificate is a CA. */
export function caFromPem(crtPem: string, keyPem: string): CertificateAuthority {
  const cert = parseCertificatePem(crtPem, 'CA certificate');
  const key = parsePrivateKeyPem(keyPem, 'CA key');
  return caFromParts(cert, key);
}

export function caFromParts(cert: X509Certificate, key: KeyPair): CertificateAuthority {
  if (!samePublicKey(cert.publicKey, key.publicKey))
    throw new PkiError('KeyMismatch', `CA key: does not match the public key of the CA certificate "${structureOf(cert).subject.text}"; pass the key that was generated with this certificate`);
  if (structureOf(cert).extensions.isCA !== true)
    throw new PkiError('NotCA', `CA certificate: "${structureOf(cert).subject.text}" is not a CA (BasicConstraints CA:TRUE is missing); pass a CA certificate, not a leaf`);
  return { certPem: encodePem('CERTIFICATE', cert.raw), cert, key };
}
