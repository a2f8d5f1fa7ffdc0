// PKCS#10 certificate signing requests (RFC 2986): built for a key, parsed and self-signature-checked as trustd does.
import type { KeyObject } from 'node:crypto';
import { bitString, implicitConstructed, integer, oid, sequence, setOf } from './der.js';
import { children, DerError, expectTag, raw, readBitString, readDer, readOid, readSmallInt } from './der-reader.js';
import { CsrError } from './errors.js';
import { decodeExtensions, subjectAltNameExtension, unhandledCriticalExtensions } from './extensions.js';
import type { KeyAlgorithm, KeyPair } from './keys.js';
import { algorithmOf } from './keys.js';
import { encodeName, parseName } from './name.js';
import { OID } from './oids.js';
import { decodePemBlocks, encodePem } from './pem.js';
import type { ExtKeyUsageName, KeyUsageName } from './profiles.js';
import { importSpki, isSupportedSignatureOid, schemeFor, signWith, spkiOf, verifyWith } from './signature.js';

export interface CsrSubject {
  commonName?: string;
  organizations?: string[];
}

export interface CsrSans {
  dnsNames?: string[];
  ipAddresses?: string[];
}

export interface ParsedCsr {
  commonName: string;
  organizations: string[];
  /** Go's pkix.Name form of the subject. */
  subject: string;
  dnsNames: string[];
  ipAddresses: string[];
  publicKey: KeyObject;
  keyAlgorithm: KeyAlgorithm;
  requestedExtensions: {
    isCA?: boolean;
    keyUsage?: KeyUsageName[];
    extKeyUsage?: ExtKeyUsageName[];
    /** EKU OIDs without a name here (anyExtendedKeyUsage is 2.5.29.37.0). */
    otherExtKeyUsages?: string[];
    /** SAN entries other than DNS names and IPs (`URI:...`, `email:...`). */
    otherSubjectAltNames?: string[];
    /** OIDs of extensions marked critical that we do not understand. */
    unhandledCritical?: string[];
  };
  der: Buffer;
}

export function createCsr(key: KeyPair, subject: CsrSubject, sans: CsrSans = {}): string {
  const dnsNames = sans.dnsNames ?? [];
  const ipAddresses = sans.ipAddresses ?? [];
  const name = encodeName(subject);
  const attributes: Buffer[] = [];
  if (dnsNames.length || ipAddresses.length) {
    const extensions = sequence(subjectAltNameExtension(dnsNames, ipAddresses, name.length <= 2));
    attributes.push(sequence(oid(OID.extensionRequest), setOf(extensions)));
  }
  const info = sequence(integer(0), name, spkiOf(key.publicKey), implicitConstructed(0, ...attributes));
  const scheme = schemeFor(key.privateKey);
  return encodePem('CERTIFICATE REQUEST', sequence(info, scheme.algorithmIdentifier, bitString(signWith(scheme, key.privateKey, info))));
}

/** Refuses with trustd's messages: `failed to decode CSR`, `failed to parse CSR: ...`, `failed verifying CSR signature`. */
export function parseCsr(pem: string): ParsedCsr {
  const block = decodePemBlocks(pem).find((b) => b.label === 'CERTIFICATE REQUEST' || b.label === 'NEW CERTIFICATE REQUEST');
  if (!block || block.der.length === 0) throw new CsrError('decode', 'failed to decode CSR');
  let parsed: { csr: Omit<ParsedCsr, 'publicKey' | 'keyAlgorithm'>; info: Buffer; signatureOid: string; signature: Buffer; spki: Buffer };
  let publicKey: KeyObject;
  let keyAlgorithm: KeyAlgorithm;
  try {
    parsed = parseStructure(block.der);
    publicKey = importSpki(parsed.spki);
    keyAlgorithm = algorithmOf(publicKey, 'public key');
    if (!isSupportedSignatureOid(parsed.signatureOid)) throw new DerError(`unsupported signature algorithm ${parsed.signatureOid}`);
  } catch (err) {
    throw new CsrError('parse', `failed to parse CSR: ${(err as Error).message}`);
  }
  if (!verifyWith(parsed.signatureOid, publicKey, parsed.info, parsed.signature)) throw new CsrError('signature', 'failed verifying CSR signature');
  return { ...parsed.csr, publicKey, keyAlgorithm };
}

function parseStructure(der: Buffer) {
  const [infoNode, sigAlg, sigValue, extra] = children(expectTag(readDer(der), 0x30, 'CertificationRequest'));
  if (extra || !sigValue) throw new DerError('CertificationRequest: expected 3 elements');
  const [versionNode, subjectNode, spkiNode, attributesNode] = children(expectTag(infoNode, 0x30, 'CertificationRequestInfo'));
  if (readSmallInt(versionNode, 'version') !== 0) throw new DerError('version: only v1 (0) is defined');
  const subject = parseName(subjectNode);
  const requested: ParsedCsr['requestedExtensions'] = {};
  let dnsNames: string[] = [];
  let ipAddresses: string[] = [];
  for (const attribute of attributesNode ? children(expectTag(attributesNode, 0xa0, 'attributes')) : []) {
    const [typeNode, values] = children(attribute);
    if (readOid(typeNode) !== OID.extensionRequest) continue;
    const ext = decodeExtensions(children(expectTag(values, 0x31, 'extensionRequest values'))[0]);
    dnsNames = ext.dnsNames;
    ipAddresses = ext.ipAddresses;
    if (ext.isCA !== undefined) requested.isCA = ext.isCA;
    if (ext.keyUsage) requested.keyUsage = ext.keyUsage;
    if (ext.extKeyUsage) requested.extKeyUsage = ext.extKeyUsage;
    if (ext.otherExtKeyUsages) requested.otherExtKeyUsages = ext.otherExtKeyUsages;
    if (ext.otherSubjectAltNames) requested.otherSubjectAltNames = ext.otherSubjectAltNames;
    const unhandled = unhandledCriticalExtensions(ext);
    if (unhandled.length) requested.unhandledCritical = unhandled;
  }
  const signature = readBitString(sigValue);
  return {
    csr: {
      commonName: subject.commonName,
      organizations: subject.organizations,
      subject: subject.text,
      dnsNames,
      ipAddresses,
      requestedExtensions: requested,
      der: Buffer.from(der),
    },
    info: raw(infoNode),
    signatureOid: readOid(children(expectTag(sigAlg, 0x30, 'signatureAlgorithm'))[0]),
    signature: signature.bytes,
    spki: Buffer.from(raw(expectTag(spkiNode, 0x30, 'subjectPublicKeyInfo'))),
  };
}
