// Issues leaf certificates from a CA according to a named profile, signed through the CA's signer.
import { X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { SigningCA } from './ca.js';
import { buildCertificate, buildCertificateSync, randomSerial, toSeconds } from './certificate-builder.js';
import type { CertificateTemplate } from './certificate-builder.js';
import { structureOf } from './certificate-structure.js';
import { PkiError } from './errors.js';
import {
  authorityKeyIdExtension,
  basicConstraintsExtension,
  extKeyUsageExtension,
  keyUsageExtension,
  subjectAltNameExtension,
  subjectKeyIdExtension,
} from './extensions.js';
import { ipToBytes, bytesToIp } from './ip.js';
import type { KeyAlgorithm, KeyOptions, KeyPair } from './keys.js';
import { algorithmOf, encodePrivateKeyPem, generateKeyPair } from './keys.js';
import { encodeName } from './name.js';
import { encodePem } from './pem.js';
import type { KeyUsageName, LeafProfile } from './profiles.js';
import { LEAF_PROFILES } from './profiles.js';
import { boundedEnd } from './lifetime.js';
import { keyIdentifierOf, keyIdentifierOfKey, spkiOf } from './signature.js';

export interface IssueOptions {
  publicKey: KeyObject;
  now?: Date;
  /** Default: the profile's validity. NotAfter is clamped to the issuer's NotAfter. */
  validityHours?: number;
  /** NotBefore = now - backdateMinutes (default 5) to absorb clock skew. */
  backdateMinutes?: number;
  commonName?: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
}

export interface IssuedCertificate {
  certPem: string;
  cert: X509Certificate;
  der: Buffer;
  /** Set when the lifetime asked for ran past the issuer's end: the certificate ends with the CA, at this time. */
  clampedTo?: Date;
}

export interface IssuedCertificateAndKey {
  certPem: string;
  keyPem: string;
  cert: X509Certificate;
  key: KeyPair;
  clampedTo?: Date;
}

/** Without `algorithm` the new key follows the CA's key algorithm (as Talos does for client certificates). */
export type IssueWithKeyOptions = Omit<IssueOptions, 'publicKey'> & KeyOptions & {
  algorithm?: KeyAlgorithm;
  /** A key made beforehand (of `algorithm`), instead of a new one. */
  key?: KeyPair;
};

export const DEFAULT_BACKDATE_MINUTES = 5;

/** Issues from a CA whose key is in memory (throws PkiError KeyInToken otherwise): no promise per certificate. */
export function issueCertificate(ca: SigningCA, profile: LeafProfile, options: IssueOptions): IssuedCertificate {
  const leaf = prepareLeaf(ca, profile, options);
  return issued(buildCertificateSync(leaf.template, ca.signer), leaf.clampedTo);
}

/** Issues from any CA, its key in memory or in a PKCS#11 token; the checks and the certificate are issueCertificate's. */
export async function issueCertificateAsync(ca: SigningCA, profile: LeafProfile, options: IssueOptions): Promise<IssuedCertificate> {
  const leaf = prepareLeaf(ca, profile, options);
  return issued(await buildCertificate(leaf.template, ca.signer), leaf.clampedTo);
}

function prepareLeaf(ca: SigningCA, profile: LeafProfile, options: IssueOptions): { template: CertificateTemplate; clampedTo: Date | undefined } {
  const spec = LEAF_PROFILES[profile];
  if (!spec) throw new PkiError('InvalidOption', `profile: "${profile}" is unknown; use one of ${Object.keys(LEAF_PROFILES).join(', ')}`);
  const issuer = structureOf(ca.cert);

  const validityHours = options.validityHours ?? spec.validityHours;
  if (!(validityHours > 0)) throw new PkiError('InvalidOption', `validityHours: must be positive, got ${validityHours}`);
  const backdate = options.backdateMinutes ?? DEFAULT_BACKDATE_MINUTES;
  if (!(backdate >= 0)) throw new PkiError('InvalidOption', `backdateMinutes: must be zero or more, got ${backdate}`);
  const now = (options.now ?? new Date()).getTime();
  if (!Number.isFinite(now)) throw new PkiError('InvalidOption', 'now: is not a valid date');
  const notBefore = toSeconds(new Date(now - backdate * 60_000));
  const end = boundedEnd(new Date(now), validityHours, issuer.notAfter);
  const notAfter = toSeconds(end.notAfter);
  if (notAfter <= notBefore) throw new PkiError('InvalidOption', `CA "${issuer.subject.text}" expired at ${issuer.notAfter.toISOString()}; rotate the CA before issuing from it`);

  if (options.organizations?.length && !spec.organizationsAllowed)
    throw new PkiError('InvalidOption', `organizations: the ${profile} profile issues server certificates without an Organization (it would grant roles); remove them`);
  const commonName = options.commonName ?? (spec.commonNameRequired ? '' : spec.commonName);
  if (spec.commonNameRequired && !commonName) throw new PkiError('InvalidOption', `commonName: required for the ${profile} profile (e.g. "${spec.commonName}<name>")`);
  let organizations = options.organizations ?? [...spec.organizations];
  if (spec.sortOrganizations) organizations = [...new Set(organizations)].sort();

  const dnsNames = unique([...(spec.defaultDnsNames ?? []), ...(options.dnsNames ?? [])].map((d) => checkDnsName(d)));
  const ipAddresses = unique((options.ipAddresses ?? []).map((ip, i) => bytesToIp(ipToBytes(ip, `ipAddresses[${i}]`))));

  const subjectDer = encodeName({ commonName, organizations });
  const emptySubject = subjectDer.length <= 2;
  if (emptySubject && dnsNames.length + ipAddresses.length === 0) throw new PkiError('InvalidOption', `subject: empty, and no SANs; give a commonName, organizations or SANs`);

  const spki = spkiOf(options.publicKey);
  const extensions = [...profileExtensions(profile, algorithmOf(options.publicKey, 'publicKey') === 'rsa')];
  if (dnsNames.length || ipAddresses.length) extensions.push(subjectAltNameExtension(dnsNames, ipAddresses, emptySubject));
  extensions.push(subjectKeyIdExtension(keyIdentifierOfKey(options.publicKey)), authorityKeyIdOf(ca));

  return {
    template: { serial: randomSerial(), issuerDer: issuer.subjectDer, subjectDer, notBefore, notAfter, spki, extensions },
    clampedTo: end.clamped ? notAfter : undefined,
  };
}

const profileExtensionCache = new Map<string, Buffer[]>();

/** KeyUsage, ExtKeyUsage and BasicConstraints depend only on the profile and whether the key is RSA. */
function profileExtensions(profile: LeafProfile, rsa: boolean): Buffer[] {
  const cacheKey = `${profile}/${rsa}`;
  let exts = profileExtensionCache.get(cacheKey);
  if (!exts) {
    const spec = LEAF_PROFILES[profile];
    const keyUsage: KeyUsageName[] = spec.keyEnciphermentForRsa && rsa ? [...spec.keyUsage, 'keyEncipherment'] : [...spec.keyUsage];
    exts = [keyUsageExtension(keyUsage), extKeyUsageExtension(spec.extKeyUsage), basicConstraintsExtension(false)];
    profileExtensionCache.set(cacheKey, exts);
  }
  return exts;
}

const akiCache = new WeakMap<SigningCA['cert'], Buffer>();

/** The issuer's key identifier, taken from its SKI (or computed when an imported CA lacks one), cached per CA. */
export function authorityKeyIdOf(ca: SigningCA): Buffer {
  let aki = akiCache.get(ca.cert);
  if (!aki) {
    const issuer = structureOf(ca.cert);
    aki = authorityKeyIdExtension(issuer.extensions.subjectKeyId ?? keyIdentifierOf(issuer.spki));
    akiCache.set(ca.cert, aki);
  }
  return aki;
}

/** Generates a key (off the event loop) and issues a certificate for it. */
export async function issueCertificateAndKey(ca: SigningCA, profile: LeafProfile, options: IssueWithKeyOptions = {}): Promise<IssuedCertificateAndKey> {
  const key = options.key ?? (await generateKeyPair(options.algorithm ?? ca.signer.algorithm, { rsaBits: options.rsaBits }));
  const made = await issueCertificateAsync(ca, profile, { ...options, publicKey: key.publicKey });
  // Not destructured: `cert` is a getter that parses on first use, and the caller may never ask for it.
  return {
    certPem: made.certPem,
    keyPem: encodePrivateKeyPem(key),
    get cert() {
      return made.cert;
    },
    key,
    ...(made.clampedTo ? { clampedTo: made.clampedTo } : {}),
  };
}

/** The X509Certificate is parsed on first use only: issuing in bulk need not pay for it. */
function issued(der: Buffer, clampedTo: Date | undefined): IssuedCertificate {
  let cert: X509Certificate | undefined;
  return {
    certPem: encodePem('CERTIFICATE', der),
    der,
    ...(clampedTo ? { clampedTo } : {}),
    get cert() {
      return (cert ??= new X509Certificate(der));
    },
  };
}

const unique = (xs: string[]) => [...new Set(xs)];

const DNS_NAME = /^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.?$/i;

function checkDnsName(name: string): string {
  if (name.length > 253 || !DNS_NAME.test(name)) throw new PkiError('InvalidOption', `dnsNames: "${name}" is not a valid DNS name`);
  return name;
}
