// Our DER reader applied to a whole value: readDer, then children() into every constructed node. The reader itself is
// lazy (a certificate parser asks only for what it needs), so this is what "our reader accepts this input" means.
import { children, readDer } from '../../src/pki/der-reader.js';
import type { DerNode } from '../../src/pki/der-reader.js';

/** One TLV in pre-order: the form in which the three readers of the differential test are compared. */
export interface TlvEntry {
  offset: number;
  depth: number;
  headerLength: number;
  length: number;
  tag: number;
}

export function ourTree(der: Buffer): TlvEntry[] {
  const out: TlvEntry[] = [];
  const visit = (n: DerNode, depth: number) => {
    out.push({ offset: n.start, depth, headerLength: n.contentStart - n.start, length: n.end - n.contentStart, tag: n.tag });
    if (n.tag & 0x20) for (const c of children(n)) visit(c, depth + 1);
  };
  visit(readDer(der), 0);
  return out;
}

/** Every node of a value our reader accepts, for running the typed readers on each. */
export function ourNodes(der: Buffer): DerNode[] {
  const out: DerNode[] = [];
  const visit = (n: DerNode) => {
    out.push(n);
    if (n.tag & 0x20) for (const c of children(n)) visit(c);
  };
  visit(readDer(der));
  return out;
}
