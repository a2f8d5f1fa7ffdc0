// The two independent judges of our DER reader: node-forge's ASN.1 reader (strict, all bytes parsed) and
// `openssl asn1parse`. Each reports the TLVs it read in pre-order, in the same form as der-walk's ourTree.
import { spawnSync } from 'node:child_process';
import forge from 'node-forge';
import { tempFile } from '../pki/openssl.js';
import type { TlvEntry } from './der-walk.js';

function headerLengthOf(length: number): number {
  if (length < 0x80) return 2;
  let bytes = 0;
  for (let v = length; v > 0; v = Math.floor(v / 256)) bytes++;
  return 2 + bytes;
}

type ForgeNode = forge.asn1.Asn1;

function contentLength(node: ForgeNode): number {
  // forge also tries to read a BIT STRING's content as ASN.1, and keeps the raw content beside what it found
  if ('bitStringContents' in node && typeof node.bitStringContents === 'string') return node.bitStringContents.length;
  // a BMPString's value is decoded to one JavaScript character per two octets
  if (typeof node.value === 'string') return node.type === forge.asn1.Type.BMPSTRING ? node.value.length * 2 : node.value.length;
  return node.value.reduce((sum, child) => sum + encodedLength(child), 0);
}

const encodedLength = (node: ForgeNode): number => headerLengthOf(contentLength(node)) + contentLength(node);

/** forge's tree, with offsets and header lengths as minimal DER has them (forge keeps neither). */
export function forgeTree(der: Buffer): TlvEntry[] {
  const out: TlvEntry[] = [];
  const visit = (node: ForgeNode, depth: number, offset: number) => {
    const length = contentLength(node);
    const headerLength = headerLengthOf(length);
    out.push({ offset, depth, headerLength, length, tag: node.tagClass | (node.constructed ? 0x20 : 0) | node.type });
    if (typeof node.value === 'string' || 'bitStringContents' in node) return;
    let p = offset + headerLength;
    for (const child of node.value) {
      visit(child, depth + 1, p);
      p += encodedLength(child);
    }
  };
  visit(forge.asn1.fromDer(der.toString('binary'), true), 0, 0);
  return out;
}

// asn1parse's names of the universal tags 0..30 (OpenSSL 3), as it prints them.
const UNIVERSAL_NAMES = [
  'EOC', 'BOOLEAN', 'INTEGER', 'BIT STRING', 'OCTET STRING', 'NULL', 'OBJECT', 'OBJECT DESCRIPTOR', 'EXTERNAL', 'REAL',
  'ENUMERATED', '<ASN1 11>', 'UTF8STRING', '<ASN1 13>', '<ASN1 14>', '<ASN1 15>', 'SEQUENCE', 'SET', 'NUMERICSTRING',
  'PRINTABLESTRING', 'T61STRING', 'VIDEOTEXSTRING', 'IA5STRING', 'UTCTIME', 'GENERALIZEDTIME', 'GRAPHICSTRING',
  'VISIBLESTRING', 'GENERALSTRING', 'UNIVERSALSTRING', '<ASN1 29>', 'BMPSTRING',
];
const CLASS_NAMES = ['', 'appl', 'cont', 'priv'];

/** The name asn1parse prints for a single-byte tag. */
export function opensslTagName(tag: number): string {
  const number = tag & 0x1f;
  const cls = tag >> 6;
  return cls === 0 ? UNIVERSAL_NAMES[number] : `${CLASS_NAMES[cls]} [ ${number} ]`;
}

export interface OpensslEntry {
  offset: number;
  depth: number;
  headerLength: number;
  length: number;
  constructed: boolean;
  name: string;
}

/** asn1parse's verdict: the entries it printed, or undefined when it refused the input. */
export type OpensslVerdict = OpensslEntry[] | undefined;

const LINE = /^\s*(\d+):d=(\d+)\s+hl=(\d+)\s+l=\s*(\d+|inf)\s+(cons|prim): ([\s\S]*)$/; // a value may hold a CR

function parseListing(text: string, rc: number): OpensslVerdict {
  // asn1parse exits 0 when it stops at its nesting limit, but says so
  if (rc !== 0 || /Error in encoding|BAD RECURSION DEPTH|error:/.test(text)) return undefined;
  const out: OpensslEntry[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue; // a string value that itself contains a newline
    // an indefinite length (BER, never DER) reads as -1, which no entry of ours can equal
    out.push({ offset: +m[1], depth: +m[2], headerLength: +m[3], length: m[4] === 'inf' ? -1 : +m[4], constructed: m[5] === 'cons', name: m[6].slice(0, 18).trim() });
  }
  return out;
}

/**
 * asn1parse's view of inputs that are each one valid DER value, from a single run over their concatenation (it reads
 * value after value): each input gets the entries that fall inside it, with offsets made relative to its start.
 */
export function opensslTreesOfValid(inputs: readonly Buffer[]): OpensslVerdict[] {
  const [all] = opensslTrees([Buffer.concat(inputs)]);
  if (!all) return inputs.map(() => undefined);
  let start = 0;
  return inputs.map((der) => {
    const end = start + der.length;
    const mine = all.filter((e) => e.offset >= start && e.offset < end).map((e) => ({ ...e, offset: e.offset - start }));
    start = end;
    return mine;
  });
}

/** Runs asn1parse on every input with one shell (one spawn from Node), each input from its own temp file. */
export function opensslTrees(inputs: readonly Buffer[]): OpensslVerdict[] {
  const files = inputs.map((b) => tempFile(b, '.der'));
  const script = 'for f in "$@"; do echo "@@@ begin"; openssl asn1parse -inform DER -in "$f" 2>&1; echo "@@@ rc=$?"; done';
  const r = spawnSync('sh', ['-c', script, 'sh', ...files], { encoding: 'latin1', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`asn1parse batch failed: ${r.stderr}`);
  const verdicts: OpensslVerdict[] = [];
  for (const m of r.stdout.matchAll(/@@@ begin\n([\s\S]*?)@@@ rc=(\d+)\n/g)) verdicts.push(parseListing(m[1], Number(m[2])));
  if (verdicts.length !== inputs.length) throw new Error(`asn1parse batch: ${verdicts.length} verdicts for ${inputs.length} inputs`);
  return verdicts;
}
