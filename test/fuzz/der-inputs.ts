// Inputs for the DER fuzzers: real certificates and CSRs, ASN.1 trees built by fast-check, and mutations of both
// (truncation, bit flips, inserted/deleted bytes, rewritten length fields).
import fc from 'fast-check';
import { createCsr, decodePem, generateKeyPairSync } from '../../src/pki/index.js';
import type { KeyAlgorithm } from '../../src/pki/index.js';
import { fixtureBundle, kubernetesPki } from '../pki/fixtures.js';

/** A tag byte, a definite minimal length and the content: the one encoder the fuzzers trust (independent of src/pki). */
export function encodeTlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let header: number[];
  if (n < 0x80) header = [tag, n];
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
    header = [tag, 0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from(header), content]);
}

/** CSRs of every key algorithm we sign for, with SANs, so extensionRequest attributes are present. */
export function sampleCsrs(): string[] {
  return (['ecdsa', 'ed25519', 'rsa'] as KeyAlgorithm[]).map((alg) =>
    createCsr(generateKeyPairSync(alg, { rsaBits: 2048 }), { commonName: `node-${alg}`, organizations: ['os:admin'] }, { dnsNames: ['worker-1'], ipAddresses: ['10.5.0.3', 'fd00::1'] }),
  );
}

/** Real Talos and kubeadm CA certificates (ECDSA, Ed25519 and RSA), as DER. */
export function sampleCertificates(): Buffer[] {
  const talos = fixtureBundle();
  const pems = [talos.os.crt, talos.etcd.crt, talos.k8s.crt, talos.k8saggregator.crt, kubernetesPki('ca.crt'), kubernetesPki('front-proxy-ca.crt')];
  return pems.map((pem) => decodePem(pem).der);
}

// Primitive universal tags whose content the generator may fill with arbitrary bytes; BMPString (0x1e) gets an even
// length, as X.690 8.23.8 requires two octets per character. No tag 0 (end-of-contents is not a DER value), and no
// other class's tag number 30 either: node-forge reads any tag number 30 as a BMPString.
const PRIMITIVE_TAGS = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x14, 0x16, 0x17, 0x18, 0x80, 0x81, 0x82, 0x87, 0x5d, 0xc3];
const CONSTRUCTED_TAGS = [0x30, 0x31, 0xa0, 0xa1, 0xa3, 0x60, 0xe2];

const primitive: fc.Arbitrary<Buffer> = fc.oneof(
  fc.tuple(fc.constantFrom(...PRIMITIVE_TAGS), fc.uint8Array({ maxLength: 40 })).map(([tag, c]) => encodeTlv(tag, Buffer.from(c))),
  fc.uint8Array({ maxLength: 20 }).map((c) => encodeTlv(0x1e, Buffer.from(c.length % 2 ? c.subarray(1) : c))),
  // contents just around the short/long length boundary
  fc.tuple(fc.constantFrom(0x04, 0x0c), fc.integer({ min: 126, max: 260 })).map(([tag, n]) => encodeTlv(tag, Buffer.alloc(n, 0x41))),
);

/** A valid DER tree of depth at most 6 (OpenSSL's asn1parse stops at 128 levels). */
export const asn1Tree: fc.Arbitrary<Buffer> = fc.letrec<{ node: Buffer }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', maxDepth: 6 },
    primitive,
    fc.tuple(fc.constantFrom(...CONSTRUCTED_TAGS), fc.array(tie('node'), { maxLength: 5 })).map(([tag, kids]) => encodeTlv(tag, Buffer.concat(kids))),
  ),
})).node;

/** Where the TLV headers of a valid DER value are (walked with the independent rules above, not src/pki). */
export function headerOffsets(der: Buffer): { start: number; lengthAt: number; contentStart: number; length: number }[] {
  const out: { start: number; lengthAt: number; contentStart: number; length: number }[] = [];
  const walk = (from: number, to: number) => {
    for (let p = from; p < to; ) {
      const tag = der[p];
      let len = der[p + 1];
      let c = p + 2;
      if (len & 0x80) {
        const n = len & 0x7f;
        len = 0;
        for (let i = 0; i < n; i++) len = len * 256 + der[c + i];
        c += n;
      }
      out.push({ start: p, lengthAt: p + 1, contentStart: c, length: len });
      if (tag & 0x20) walk(c, c + len);
      p = c + len;
    }
  };
  walk(0, der.length);
  return out;
}

/** Length encodings to put in place of a header's own: off by one, non-minimal, indefinite, too long, huge. */
function lengthVariants(len: number): number[][] {
  const be = (v: number, n: number) => Array.from({ length: n }, (_, i) => Math.floor(v / 256 ** (n - 1 - i)) % 256);
  return [
    len + 1 < 0x80 ? [len + 1] : [0x82, ...be(len + 1, 2)],
    len > 0 ? (len - 1 < 0x80 ? [len - 1] : [0x82, ...be(len - 1, 2)]) : [0x7f],
    [0x81, len & 0xff],
    [0x82, ...be(len, 2)],
    [0x84, ...be(len, 4)],
    [0x85, 0, 0, 0, 0, len & 0xff],
    [0x80],
    [0xff],
    [0x84, 0xff, 0xff, 0xff, 0xff],
    [0x83, 0x01, 0x00, 0x00],
  ];
}

export type Mutation = { kind: string; bytes: Buffer };

/** One mutation of `der` (which must be valid DER): the fuzzers' view of "a peer sent something almost right". */
export function mutationOf(der: Buffer): fc.Arbitrary<Mutation> {
  const headers = headerOffsets(der);
  const at = fc.nat({ max: Math.max(0, der.length - 1) });
  return fc.oneof(
    fc.nat({ max: der.length - 1 }).map((n) => ({ kind: `truncated to ${n}`, bytes: der.subarray(0, n) })),
    fc.tuple(at, fc.nat({ max: 7 })).map(([i, bit]) => {
      const b = Buffer.from(der);
      b[i] ^= 1 << bit;
      return { kind: `bit ${bit} of byte ${i} flipped`, bytes: b };
    }),
    fc.tuple(at, fc.integer({ min: 0, max: 255 })).map(([i, v]) => ({ kind: `byte ${v} inserted at ${i}`, bytes: Buffer.concat([der.subarray(0, i), Buffer.from([v]), der.subarray(i)]) })),
    at.map((i) => ({ kind: `byte ${i} deleted`, bytes: Buffer.concat([der.subarray(0, i), der.subarray(i + 1)]) })),
    fc.tuple(fc.constantFrom(...headers), fc.nat({ max: 9 })).map(([h, v]) => ({
      kind: `length at ${h.lengthAt} (${h.length}) rewritten as variant ${v}`,
      bytes: Buffer.concat([der.subarray(0, h.lengthAt), Buffer.from(lengthVariants(h.length)[v]), der.subarray(h.contentStart)]),
    })),
    fc.tuple(fc.constantFrom(...headers), fc.integer({ min: 0, max: 255 })).map(([h, tag]) => {
      const b = Buffer.from(der);
      b[h.start] = tag;
      return { kind: `tag at ${h.start} set to 0x${tag.toString(16)}`, bytes: b };
    }),
    fc.uint8Array({ minLength: 1, maxLength: 4 }).map((tail) => ({ kind: 'trailing bytes', bytes: Buffer.concat([der, Buffer.from(tail)]) })),
  );
}
