// A minimal DER writer: just the ASN.1 types X.509 certificates and PKCS#10 requests need.
// Values are Buffers of whole TLVs, so structures compose by concatenation without an intermediate tree.
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One TLV with a single-byte tag, written in one allocation (issuing in bulk is allocation-bound). */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  let len = 0;
  for (const c of content) len += c.length;
  const lenBytes = len < 0x80 ? 0 : len < 0x100 ? 1 : len < 0x10000 ? 2 : len < 0x1000000 ? 3 : 4;
  const out = Buffer.allocUnsafe(2 + lenBytes + len);
  out[0] = tag;
  if (lenBytes === 0) out[1] = len;
  else {
    out[1] = 0x80 | lenBytes;
    for (let i = 0; i < lenBytes; i++) out[2 + i] = (len >>> (8 * (lenBytes - 1 - i))) & 0xff;
  }
  let p = 2 + lenBytes;
  for (const c of content) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(TAG.SEQUENCE, ...items);

/** A SET OF: DER orders the encoded elements bytewise. */
export function setOf(...items: Uint8Array[]): Buffer {
  const sorted = [...items].sort((a, b) => Buffer.compare(a, b));
  return tlv(TAG.SET, ...sorted);
}

/** [n] EXPLICIT: wraps a whole TLV. */
export const explicit = (n: number, inner: Uint8Array): Buffer => tlv(0xa0 | n, inner);

/** [n] IMPLICIT over primitive content (e.g. GeneralName dNSName, AKI keyIdentifier). */
export const implicitPrimitive = (n: number, content: Uint8Array): Buffer => tlv(0x80 | n, content);

/** [n] IMPLICIT over constructed content (e.g. a CSR's attributes). */
export const implicitConstructed = (n: number, ...content: Uint8Array[]): Buffer => tlv(0xa0 | n, ...content);

export const nullValue = (): Buffer => Buffer.from([TAG.NULL, 0]);
export const boolean = (v: boolean): Buffer => Buffer.from([TAG.BOOLEAN, 1, v ? 0xff : 0]);
export const octetString = (content: Uint8Array): Buffer => tlv(TAG.OCTET_STRING, content);

/** A BIT STRING of whole bytes (signatures, public keys). */
export const bitString = (content: Uint8Array, unusedBits = 0): Buffer => tlv(TAG.BIT_STRING, Buffer.from([unusedBits]), content);

/** A named-bit BIT STRING (KeyUsage): bit 0 is the most significant; DER drops trailing zero bits. */
export function namedBits(bits: number[]): Buffer {
  if (bits.length === 0) return Buffer.from([TAG.BIT_STRING, 1, 0]);
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const b of bits) bytes[b >> 3] |= 0x80 >> (b & 7);
  return bitString(bytes, 7 - (highest & 7));
}

/** An INTEGER from the big-endian magnitude of a non-negative number. */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const trimmed = magnitude.subarray(i);
  if (trimmed.length === 0) return Buffer.from([TAG.INTEGER, 1, 0]);
  return trimmed[0] & 0x80 ? tlv(TAG.INTEGER, Buffer.from([0]), trimmed) : tlv(TAG.INTEGER, trimmed);
}

export function integer(value: number | bigint): Buffer {
  let v = BigInt(value);
  if (v < 0n) throw new RangeError('integer: negative values are not needed here');
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  return unsignedInteger(Uint8Array.from(bytes));
}

const oidCache = new Map<string, Buffer>();

export function oid(dotted: string): Buffer {
  const cached = oidCache.get(dotted);
  if (cached) return cached;
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new RangeError(`oid: "${dotted}" is not a dotted object identifier`);
    return BigInt(a);
  });
  if (arcs.length < 2 || arcs[0] > 2n || (arcs[0] < 2n && arcs[1] > 39n)) throw new RangeError(`oid: "${dotted}" is not a valid object identifier`);
  const body: number[] = [];
  for (const arc of [arcs[0] * 40n + arcs[1], ...arcs.slice(2)]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    body.push(...chunk);
  }
  const encoded = tlv(TAG.OID, Uint8Array.from(body));
  oidCache.set(dotted, encoded);
  return encoded;
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** PrintableString when the text allows it (as Go does), UTF8String otherwise. */
export function directoryString(text: string): Buffer {
  return PRINTABLE.test(text) ? tlv(TAG.PRINTABLE_STRING, Buffer.from(text, 'latin1')) : tlv(TAG.UTF8_STRING, Buffer.from(text, 'utf8'));
}

export function ia5String(text: string): Buffer {
  if (![...text].every((c) => c.charCodeAt(0) < 0x80)) throw new RangeError(`ia5String: "${text}" has non-ASCII characters`);
  return tlv(TAG.IA5_STRING, Buffer.from(text, 'latin1'));
}

const pad2 = (n: number) => (n < 10 ? '0' : '') + n;

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always UTC, whole seconds, trailing Z. */
export function time(date: Date): Buffer {
  const y = date.getUTCFullYear();
  // an Invalid Date (a lifetime added past 275760 AD) would otherwise encode as "0NaNNaN...Z"
  if (!Number.isFinite(y)) throw new RangeError('time: not a valid date');
  if (y < 0 || y > 9999) throw new RangeError(`time: year ${y} cannot be encoded`);
  const rest = pad2(date.getUTCMonth() + 1) + pad2(date.getUTCDate()) + pad2(date.getUTCHours()) + pad2(date.getUTCMinutes()) + pad2(date.getUTCSeconds()) + 'Z';
  if (y >= 1950 && y < 2050) return tlv(TAG.UTC_TIME, Buffer.from(pad2(y % 100) + rest, 'latin1'));
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(String(y).padStart(4, '0') + rest, 'latin1'));
}
