// The X.509 v3 extensions we write and read: KeyUsage, ExtKeyUsage, BasicConstraints, SAN, SKI, AKI.
import { boolean, ia5String, implicitPrimitive, integer, namedBits, octetString, oid, sequence } from './der.js';
import type { DerNode } from './der-reader.js';
import { children, content, DerError, expectTag, readBitString, readBoolean, readDer, readOid, readSmallInt } from './der-reader.js';
import { bytesToIp, ipToBytes } from './ip.js';
import { EXT_KEY_USAGE_BY_OID, EXT_KEY_USAGE_OIDS, KEY_USAGE_BITS, OID } from './oids.js';
import type { ExtKeyUsageName, KeyUsageName } from './profiles.js';

export const extension = (type: string, critical: boolean, value: Buffer): Buffer =>
  critical ? sequence(oid(type), boolean(true), octetString(value)) : sequence(oid(type), octetString(value));

export const keyUsageExtension = (usages: readonly KeyUsageName[]): Buffer =>
  extension(OID.keyUsage, true, namedBits(usages.map((u) => KEY_USAGE_BITS[u])));

export const extKeyUsageExtension = (usages: readonly ExtKeyUsageName[]): Buffer =>
  extension(OID.extKeyUsage, false, sequence(...usages.map((u) => oid(EXT_KEY_USAGE_OIDS[u]))));

/** Critical, as Go and kubeadm write it; CA:FALSE is the empty SEQUENCE. */
export const basicConstraintsExtension = (isCA: boolean, pathLen?: number): Buffer =>
  extension(OID.basicConstraints, true, isCA ? sequence(boolean(true), ...(pathLen === undefined ? [] : [integer(pathLen)])) : sequence());

export const subjectKeyIdExtension = (keyId: Buffer): Buffer => extension(OID.subjectKeyIdentifier, false, octetString(keyId));

export const authorityKeyIdExtension = (keyId: Buffer): Buffer => extension(OID.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, keyId)));

/** dNSName [2] and iPAddress [7] GeneralNames; RFC 5280 makes SAN critical only when the subject is empty. */
export function subjectAltNameExtension(dnsNames: readonly string[], ipAddresses: readonly string[], critical: boolean): Buffer {
  const names = [...dnsNames.map((d) => implicitPrimitive(2, content(readDer(ia5String(d))))), ...ipAddresses.map((ip) => implicitPrimitive(7, ipToBytes(ip)))];
  return extension(OID.subjectAltName, critical, sequence(...names));
}

/** The extensions decodeExtensions understands; Go's crypto/x509 refuses a certificate with another one marked critical. */
export const HANDLED_EXTENSIONS: ReadonlySet<string> = new Set([OID.keyUsage, OID.extKeyUsage, OID.basicConstraints, OID.subjectAltName, OID.subjectKeyIdentifier, OID.authorityKeyIdentifier]);

/** OIDs of the extensions marked critical that we do not understand (and so must not accept). */
export function unhandledCriticalExtensions(ext: DecodedExtensions): string[] {
  return [...ext.present].filter(([type, critical]) => critical && !HANDLED_EXTENSIONS.has(type)).map(([type]) => type);
}

export interface DecodedExtensions {
  keyUsage?: KeyUsageName[];
  extKeyUsage?: ExtKeyUsageName[];
  /** EKU OIDs we have no name for. */
  otherExtKeyUsages?: string[];
  isCA?: boolean;
  pathLen?: number;
  dnsNames: string[];
  ipAddresses: string[];
  /** SAN entries other than DNS names and IP addresses, as openssl prints them (`URI:spiffe://x`, `email:a@b`). */
  otherSubjectAltNames?: string[];
  subjectKeyId?: Buffer;
  authorityKeyId?: Buffer;
  /** OIDs of every extension present, with criticality. */
  present: Map<string, boolean>;
}

/** Decodes a SEQUENCE OF Extension. Unknown extensions are recorded in `present` and otherwise ignored. */
export function decodeExtensions(seq: DerNode): DecodedExtensions {
  const out: DecodedExtensions = { dnsNames: [], ipAddresses: [], present: new Map() };
  for (const ext of children(expectTag(seq, 0x30, 'extensions'))) {
    const parts = children(ext);
    const type = readOid(parts[0]);
    const critical = parts.length === 3 ? readBoolean(parts[1]) : false;
    if (out.present.has(type)) throw new DerError(`extension ${type} appears twice`);
    out.present.set(type, critical);
    const value = readDer(content(expectTag(parts[parts.length - 1], 0x04, `extension ${type} value`)));
    decodeOne(type, value, out);
  }
  return out;
}

function decodeOne(type: string, value: DerNode, out: DecodedExtensions): void {
  switch (type) {
    case OID.keyUsage: {
      const { bytes, unused } = readBitString(value);
      const total = bytes.length * 8 - unused;
      out.keyUsage = (Object.entries(KEY_USAGE_BITS) as [KeyUsageName, number][])
        .filter(([, bit]) => bit < total && bytes[bit >> 3] & (0x80 >> (bit & 7)))
        .map(([name]) => name);
      return;
    }
    case OID.extKeyUsage: {
      out.extKeyUsage = [];
      for (const o of children(value).map(readOid)) {
        const name = EXT_KEY_USAGE_BY_OID[o];
        if (name) out.extKeyUsage.push(name);
        else (out.otherExtKeyUsages ??= []).push(o);
      }
      return;
    }
    case OID.basicConstraints: {
      const parts = children(value);
      let i = 0;
      out.isCA = false;
      if (parts[i]?.tag === 0x01) out.isCA = readBoolean(parts[i++]);
      if (parts[i]?.tag === 0x02) out.pathLen = readSmallInt(parts[i], 'pathLenConstraint');
      return;
    }
    case OID.subjectAltName:
      for (const gn of children(value)) {
        if (gn.tag === 0x82) out.dnsNames.push(content(gn).toString('latin1'));
        else if (gn.tag === 0x87) out.ipAddresses.push(bytesToIp(content(gn)));
        else (out.otherSubjectAltNames ??= []).push(otherGeneralName(gn));
      }
      return;
    case OID.subjectKeyIdentifier:
      out.subjectKeyId = Buffer.from(content(expectTag(value, 0x04, 'subjectKeyIdentifier')));
      return;
    case OID.authorityKeyIdentifier: {
      const keyId = children(value).find((c) => c.tag === 0x80);
      if (keyId) out.authorityKeyId = Buffer.from(content(keyId));
      return;
    }
  }
}

const GENERAL_NAME_KINDS: Record<number, string> = { 0xa0: 'otherName', 0x81: 'email', 0xa3: 'x400Address', 0xa4: 'DirName', 0xa5: 'ediPartyName', 0x86: 'URI', 0x88: 'RID' };

function otherGeneralName(gn: DerNode): string {
  const kind = GENERAL_NAME_KINDS[gn.tag] ?? `tag 0x${gn.tag.toString(16)}`;
  return gn.tag === 0x81 || gn.tag === 0x86 ? `${kind}:${content(gn).toString('latin1')}` : kind;
}
