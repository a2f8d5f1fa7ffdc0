// Reads the fields of a DER certificate that node:crypto's X509Certificate does not expose in a usable form.
import type { X509Certificate } from 'node:crypto';
import type { DerNode } from './der-reader.js';
import { children, content, DerError, expectTag, raw, readBitString, readDer, readOid, readTime, readUnsigned } from './der-reader.js';
import { PkiError } from './errors.js';
import type { DecodedExtensions } from './extensions.js';
import { decodeExtensions } from './extensions.js';
import type { DistinguishedName } from './name.js';
import { parseName } from './name.js';

export interface CertificateStructure {
  tbs: Buffer;
  version: number;
  serial: Buffer;
  signatureOid: string;
  signature: Buffer;
  issuer: DistinguishedName;
  issuerDer: Buffer;
  subject: DistinguishedName;
  subjectDer: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: DecodedExtensions;
}

const cache = new WeakMap<X509Certificate, CertificateStructure>();

/** Parsed once per X509Certificate object and cached. */
export function structureOf(cert: X509Certificate): CertificateStructure {
  let s = cache.get(cert);
  if (!s) {
    try {
      s = parseCertificateStructure(cert.raw);
    } catch (err) {
      throw new PkiError('InvalidCertificate', `certificate "${cert.subject.replace(/\n/g, ',')}": cannot read its fields (${(err as Error).message})`);
    }
    cache.set(cert, s);
  }
  return s;
}

export function parseCertificateStructure(der: Buffer): CertificateStructure {
  const [tbsNode, sigAlg, sigValue] = children(expectTag(readDer(der), 0x30, 'certificate'));
  const fields = children(expectTag(tbsNode, 0x30, 'tbsCertificate'));
  let i = 0;
  let version = 1;
  if (fields[0]?.tag === 0xa0) version = readUnsigned(children(fields[i++])[0], 'version')[0] + 1;
  // Some old certificates carry negative serials (two's complement); keep the bytes rather than refuse them.
  const serialNode = expectTag(fields[i++], 0x02, 'serialNumber');
  const serial = serialNode.buf[serialNode.contentStart] === 0 && serialNode.end - serialNode.contentStart > 1 ? content(serialNode).subarray(1) : content(serialNode);
  i++; // inner signature AlgorithmIdentifier, equal to the outer one
  const issuerNode = fields[i++];
  const [nb, na] = children(expectTag(fields[i++], 0x30, 'validity'));
  const subjectNode = fields[i++];
  const spkiNode = expectTag(fields[i++], 0x30, 'subjectPublicKeyInfo');
  const extWrapper = fields.slice(i).find((f: DerNode) => f.tag === 0xa3);
  const extensions = extWrapper ? decodeExtensions(children(extWrapper)[0]) : { dnsNames: [], ipAddresses: [], present: new Map<string, boolean>() };
  const sig = readBitString(sigValue);
  if (sig.unused !== 0) throw new DerError('signature: unused bits');
  return {
    tbs: raw(tbsNode),
    version,
    serial,
    signatureOid: readOid(children(sigAlg)[0]),
    signature: sig.bytes,
    issuer: parseName(issuerNode),
    issuerDer: raw(issuerNode),
    subject: parseName(subjectNode),
    subjectDer: raw(subjectNode),
    notBefore: readTime(nb),
    notAfter: readTime(na),
    spki: raw(spkiNode),
    extensions,
  };
}

