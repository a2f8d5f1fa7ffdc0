// Which certificate a revoke (or its undo) is about, from what the user has in hand: the certificate itself, its serial
// or its SHA-256 fingerprint, and, where a serial alone could belong to several CAs, the CA. Pure: the node's CAs and
// held certificates come in as a catalog. Every refusal names the field and what to give instead.
import { createHash } from 'node:crypto';
import type { X509Certificate } from 'node:crypto';
import { PkiError, isIssuedBy, parseCertificatePem } from '../../pki/index.js';
import { structureOf } from '../../pki/certificate-structure.js';
import { CA_NAMES } from '../../resources/common.js';
import type { CaName } from '../../resources/common.js';
import { normalSerial } from '../../resources/revocations.js';
import type { RevocationCatalog } from './revocation-catalog.js';

/** Exactly one of cert, serial and fingerprint; ca narrows (and for an unknown serial, decides) the CA. */
export interface RevocationSelector {
  /** PEM certificate. */
  cert?: string;
  serial?: string;
  fingerprint?: string;
  ca?: string;
}

/** What a Revocations entry records about the certificate. */
export interface RevocationTarget {
  ca: CaName;
  serial: string;
  subject: string;
  fingerprint: string;
  names: string[];
  publicKey: string;
  notAfter: string;
}

/** Bad input to revoke: `field` is the flag or body field it came from. */
export class RevocationInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'RevocationInputError';
  }
}

const SELECTORS = ['cert', 'serial', 'fingerprint'] as const;
const MAX_PEM = 64 << 10;

export function checkedCa(ca: string | undefined): CaName | undefined {
  if (ca === undefined) return undefined;
  if (!(CA_NAMES as readonly string[]).includes(ca)) throw new RevocationInputError('ca', `expected one of ${CA_NAMES.join(', ')}, got ${JSON.stringify(ca.slice(0, 40))}`);
  return ca as CaName;
}

/** The one selector given, checked for shape; throws when none or several are. */
export function selectorKind(s: RevocationSelector): (typeof SELECTORS)[number] {
  const given = SELECTORS.filter((k) => s[k] !== undefined);
  if (given.length !== 1)
    throw new RevocationInputError('certificate', `give exactly one of --cert FILE, --serial HEX, --fingerprint SHA256 or --talosconfig FILE${given.length ? ` (got ${given.join(' and ')})` : ''}`);
  return given[0];
}

export function parseSerial(text: string): string {
  const hex = text.trim().replace(/:/g, '');
  if (!/^[0-9a-fA-F]{1,40}$/.test(hex)) throw new RevocationInputError('serial', `expected the certificate's serial number in hex (up to 40 digits, colons allowed), got ${JSON.stringify(text.slice(0, 60))}`);
  return normalSerial(hex);
}

export function parseFingerprint(text: string): string {
  const hex = text.trim().replace(/:/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) throw new RevocationInputError('fingerprint', `expected a SHA-256 fingerprint (64 hex digits, colons allowed, as openssl x509 -fingerprint -sha256 prints it), got ${JSON.stringify(text.slice(0, 80))}`);
  return hex.match(/../g)!.join(':');
}

/** The certificate a revocation is for, resolved against the node's CAs and held certificates. */
export function resolveTarget(s: RevocationSelector, catalog: RevocationCatalog, now: Date): RevocationTarget {
  const kind = selectorKind(s);
  const ca = checkedCa(s.ca);
  if (kind === 'cert') return fromCertificate(s.cert!, ca, catalog, now);
  const matches = kind === 'serial' ? bySerial(parseSerial(s.serial!), ca, catalog) : byFingerprint(parseFingerprint(s.fingerprint!), ca, catalog);
  const cas = [...new Set(matches.map((m) => m.ca))];
  if (cas.length > 1) throw new RevocationInputError('ca', `serial ${s.serial} belongs to certificates of the ${cas.join(' and ')} CAs on this node: add --ca ${cas.join('|')}`);
  if (matches.length) return targetOf(matches[0].cert, matches[0].ca);
  if (kind === 'fingerprint')
    throw new RevocationInputError('fingerprint', 'no certificate with this fingerprint is held by this node (a talosconfig\'s is not): give the certificate itself with --cert FILE or --talosconfig FILE, or its --serial with --ca');
  if (!ca) throw new RevocationInputError('ca', `serial ${parseSerial(s.serial!)} is not a certificate this node holds, so its CA is unknown: add --ca os (a talosconfig), or --ca kubernetes|etcd|aggregator`);
  const caCert = catalog.cas[ca][0];
  if (!caCert) throw new RevocationInputError('ca', `this node has no ${ca} CA`);
  // Without the certificate its end is unknown: keep the entry as long as the CA that issued it can be trusted.
  const end = catalog.cas[ca].reduce((latest, c) => Math.max(latest, Date.parse(c.validTo)), 0);
  return { ca, serial: parseSerial(s.serial!), subject: '', fingerprint: '', names: [], publicKey: '', notAfter: new Date(end).toISOString() };
}

function fromCertificate(pem: string, ca: CaName | undefined, catalog: RevocationCatalog, now: Date): RevocationTarget {
  if (pem.length > MAX_PEM) throw new RevocationInputError('cert', `is ${pem.length} bytes; a certificate is a few kilobytes: give the PEM certificate file`);
  let cert: X509Certificate;
  try {
    cert = parseCertificatePem(pem, 'cert');
  } catch (err) {
    if (err instanceof PkiError) throw new RevocationInputError('cert', `${err.message.replace(/^cert: /, '')}: give the PEM certificate to revoke`);
    throw err;
  }
  const s = structureOf(cert);
  if (s.extensions.isCA) throw new RevocationInputError('cert', `"${s.subject.text}" is a CA certificate: replace a CA with trustctl rotate-ca instead of revoking it`);
  const issuer = (ca ? [ca] : CA_NAMES).find((name) => catalog.cas[name].some((c) => isIssuedBy(cert, c)));
  if (!issuer)
    throw new RevocationInputError('cert', `"${s.subject.text}" (issuer "${s.issuer.text}") was not issued by ${ca ? `the ${ca} CA` : "any of this cluster's CAs"} on this node: nothing here trusts it, so there is nothing to revoke`);
  if (s.notAfter.getTime() <= now.getTime()) throw new RevocationInputError('cert', `"${s.subject.text}" expired on ${s.notAfter.toISOString()}: it is refused already, nothing to revoke`);
  return targetOf(cert, issuer);
}

function bySerial(serial: string, ca: CaName | undefined, catalog: RevocationCatalog) {
  return catalog.known.filter((k) => (!ca || k.ca === ca) && normalSerial(k.cert.serialNumber) === serial);
}

function byFingerprint(fingerprint: string, ca: CaName | undefined, catalog: RevocationCatalog) {
  return catalog.known.filter((k) => (!ca || k.ca === ca) && k.cert.fingerprint256 === fingerprint);
}

export function targetOf(cert: X509Certificate, ca: CaName): RevocationTarget {
  const s = structureOf(cert);
  return {
    ca,
    serial: normalSerial(cert.serialNumber),
    subject: s.subject.text,
    fingerprint: cert.fingerprint256,
    names: [...s.extensions.dnsNames, ...s.extensions.ipAddresses],
    publicKey: publicKeyDigest(s.spki),
    notAfter: s.notAfter.toISOString(),
  };
}

/** SHA-256 of a SubjectPublicKeyInfo, hex: how trustd recognises a revoked key in a CSR. */
export const publicKeyDigest = (spki: Buffer): string => createHash('sha256').update(spki).digest('hex');
