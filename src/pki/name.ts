// X.501 distinguished names: encoded from CN/O, parsed back to text and fields.
import { directoryString, oid, sequence, setOf } from './der.js';
import type { DerNode } from './der-reader.js';
import { children, DerError, readOid, readString } from './der-reader.js';
import { ATTRIBUTE_NAMES, OID } from './oids.js';

export interface DistinguishedName {
  /** Go's pkix.Name.String() form: last RDN first, e.g. "CN=talosctl-client,O=os:admin". */
  text: string;
  commonName: string;
  organizations: string[];
}

const attribute = (type: string, value: string) => setOf(sequence(oid(type), directoryString(value)));

/** Organizations first, then the common name: the order Go's pkix.Name marshals. */
export function encodeName(subject: { commonName?: string; organizations?: string[] }): Buffer {
  const rdns = (subject.organizations ?? []).map((o) => attribute(OID.organization, o));
  if (subject.commonName) rdns.push(attribute(OID.commonName, subject.commonName));
  return sequence(...rdns);
}

export function parseName(node: DerNode): DistinguishedName {
  if (node.tag !== 0x30) throw new DerError('name: expected a SEQUENCE');
  const parts: string[] = [];
  let commonName = '';
  const organizations: string[] = [];
  for (const rdn of children(node)) {
    const texts: string[] = [];
    for (const atv of children(rdn)) {
      const [typeNode, valueNode] = children(atv);
      const type = readOid(typeNode);
      let value: string;
      try {
        value = readString(valueNode);
      } catch {
        value = '#' + valueNode.buf.subarray(valueNode.start, valueNode.end).toString('hex');
      }
      if (type === OID.commonName) commonName = value;
      if (type === OID.organization) organizations.push(value);
      texts.push(`${ATTRIBUTE_NAMES[type] ?? type}=${escapeValue(value)}`);
    }
    parts.unshift(texts.join('+'));
  }
  return { text: parts.join(','), commonName, organizations };
}

function escapeValue(v: string): string {
  return v.replace(/([,+"\\<>;])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
}
