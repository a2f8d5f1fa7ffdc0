// A strict DER reader: definite minimal lengths only, bounds-checked; enough to parse certificates and CSRs.
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

export interface DerNode {
  tag: number;
  /** Offset of the tag byte within `buf`. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  end: number;
  buf: Buffer;
}

export const content = (n: DerNode): Buffer => n.buf.subarray(n.contentStart, n.end);
export const raw = (n: DerNode): Buffer => n.buf.subarray(n.start, n.end);

/** Reads one TLV at `offset`, which must end at or before `limit`. */
export function readNode(buf: Buffer, offset = 0, limit = buf.length): DerNode {
  if (offset >= limit) throw new DerError('unexpected end of data');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  // X.680 reserves UNIVERSAL 0 for the encoding rules, and X.690 8.1.5 allows it only as the end of an indefinite length
  if ((tag & 0xdf) === 0) throw new DerError('tag 0 (end-of-contents) is not a DER value');
  if (offset + 1 >= limit) throw new DerError('truncated length');
  let len = buf[offset + 1];
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError('indefinite length is not DER');
    if (n > 4) throw new DerError('length too large');
    if (p + n > limit) throw new DerError('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i];
    if (buf[p] === 0 || len < 0x80) throw new DerError('non-minimal length encoding');
    p += n;
  }
  if (p + len > limit) throw new DerError(`truncated value: need ${len} bytes, have ${limit - p}`);
  return { tag, start: offset, contentStart: p, end: p + len, buf };
}

/** Reads exactly one TLV covering the whole buffer. */
export function readDer(buf: Buffer): DerNode {
  const node = readNode(buf, 0, buf.length);
  if (node.end !== buf.length) throw new DerError(`${buf.length - node.end} trailing bytes after the DER value`);
  return node;
}

export function children(n: DerNode): DerNode[] {
  if (!(n.tag & 0x20)) throw new DerError(`tag 0x${n.tag.toString(16)} is not constructed`);
  const out: DerNode[] = [];
  for (let p = n.contentStart; p < n.end; ) {
    const c = readNode(n.buf, p, n.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

export function expectTag(n: DerNode | undefined, tag: number, what: string): DerNode {
  if (!n) throw new DerError(`${what}: missing`);
  if (n.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${n.tag.toString(16)}`);
  return n;
}

export function readOid(n: DerNode): string {
  const c = content(expectTag(n, 0x06, 'object identifier'));
  if (c.length === 0) throw new DerError('empty object identifier');
  return readOidNumbers(c) ?? readOidBigInts(c);
}

// Arcs below 2^46 (every OID in practice) are read with plain numbers, several times faster than BigInt; undefined
// hands a larger arc to the BigInt reader, which also raises the errors, so both give the same result or message.
function readOidNumbers(c: Buffer): string | undefined {
  let text = '';
  let v = 0;
  let first = true;
  for (let i = 0; i < c.length; i++) {
    const b = c[i];
    if ((v === 0 && b === 0x80) || v >= 2 ** 46) return undefined;
    v = v * 128 + (b & 0x7f);
    if (b & 0x80) continue;
    if (first) {
      const top = v < 80 ? Math.floor(v / 40) : 2;
      text = `${top}.${v - top * 40}`;
      first = false;
    } else text += `.${v}`;
    v = 0;
  }
  return c[c.length - 1] & 0x80 ? undefined : text;
}

function readOidBigInts(c: Buffer): string {
  const arcs: bigint[] = [];
  let v = 0n;
  for (let i = 0; i < c.length; i++) {
    if (v === 0n && c[i] === 0x80) throw new DerError('non-minimal object identifier');
    v = (v << 7n) | BigInt(c[i] & 0x7f);
    if (!(c[i] & 0x80)) {
      arcs.push(v);
      v = 0n;
    } else if (i === c.length - 1) throw new DerError('truncated object identifier');
  }
  const first = arcs[0] < 80n ? arcs[0] / 40n : 2n;
  return [first, arcs[0] - first * 40n, ...arcs.slice(1)].join('.');
}

/** An INTEGER's magnitude; negative values are refused (serials and versions are never negative here). */
export function readUnsigned(n: DerNode, what = 'integer'): Buffer {
  const c = content(expectTag(n, 0x02, what));
  if (c.length === 0) throw new DerError(`${what}: empty`);
  if (c[0] & 0x80) throw new DerError(`${what}: negative`);
  return c[0] === 0 && c.length > 1 ? c.subarray(1) : c;
}

export function readSmallInt(n: DerNode, what = 'integer'): number {
  const m = readUnsigned(n, what);
  if (m.length > 6) throw new DerError(`${what}: too large`);
  return m.readUIntBE(0, m.length);
}

export function readBoolean(n: DerNode): boolean {
  const c = content(expectTag(n, 0x01, 'boolean'));
  if (c.length !== 1) throw new DerError('boolean: wrong length');
  return c[0] !== 0;
}

/** A BIT STRING's bytes and unused-bit count. */
export function readBitString(n: DerNode): { bytes: Buffer; unused: number } {
  const c = content(expectTag(n, 0x03, 'bit string'));
  if (c.length === 0 || c[0] > 7) throw new DerError('bit string: bad unused-bits byte');
  return { bytes: c.subarray(1), unused: c[0] };
}

export function readString(n: DerNode): string {
  const c = content(n);
  switch (n.tag) {
    case 0x0c:
      return c.toString('utf8');
    case 0x13:
    case 0x16:
    case 0x14:
      return c.toString('latin1');
    case 0x1e:
      // two octets per character (X.690 8.23.8); an odd length would make swap16 throw a RangeError
      if (c.length % 2 !== 0) throw new DerError(`BMPString: odd length ${c.length}, expected two octets per character`);
      return Buffer.from(c).swap16().toString('utf16le');
    default:
      throw new DerError(`tag 0x${n.tag.toString(16)} is not a string type`);
  }
}

export function readTime(n: DerNode): Date {
  const s = content(n).toString('latin1');
  const m = n.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : n.tag === 0x18 ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : null;
  if (!m) throw new DerError(`time: "${s}" is not a DER UTCTime or GeneralizedTime`);
  let year = Number(m[1]);
  if (n.tag === 0x17) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}
