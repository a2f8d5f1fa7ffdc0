// IP addresses <-> the 4 or 16 octets of a GeneralName iPAddress.
import { PkiError } from './errors.js';

export function ipToBytes(ip: string, field = 'ipAddresses'): Buffer {
  const text = ip.trim();
  const family = ipFamily(text);
  if (family === 4) return Buffer.from(text.split('.').map(Number));
  if (family === 6) {
    let [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(tail ?? head);
    const toGroups = (s: string | undefined) => (s ? s.split(':').filter((g) => g !== '') : []);
    if (v4) {
      const b = v4[1].split('.').map(Number);
      const groups = `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
      if (tail !== undefined) tail = tail.replace(v4[1], groups);
      else head = head.replace(v4[1], groups);
    }
    const h = toGroups(head);
    const t = toGroups(tail);
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    const out = Buffer.alloc(16);
    groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
    return out;
  }
  throw new PkiError('InvalidOption', `${field}: "${ip}" is not an IPv4 or IPv6 address`);
}

export function bytesToIp(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    // The WHATWG URL parser prints the canonical compressed form (RFC 5952).
    return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
  }
  return `<invalid IP of ${bytes.length} bytes: ${bytes.toString('hex')}>`;
}

/**
 * 4, 6 or 0 (not an IP address), exactly as net.isIP says: the property test in test/pki/ip.test.ts holds it to that.
 * net's IPv6 pattern is one large regular expression that V8 compiles on first use, 11-17 ms of CPU in every process
 * that meets an IPv6 address or a name (a control plane's etcd SANs hold ::1; every short-lived process paid it).
 */
export function ipFamily(text: string): 0 | 4 | 6 {
  if (text.includes(':')) return isIPv6(text) ? 6 : 0;
  return isIPv4(text) ? 4 : 0;
}

/** The TLS option that names `host` (SNI, and the server certificate check): an IP address is never sent as a name. */
export function serverNameFor(host: string): { servername?: string } {
  return ipFamily(host) ? {} : { servername: host };
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const ZONE = /^[0-9a-zA-Z.:-]+$/;

/**
 * RFC 4291 text, as net.isIPv6 reads it: eight groups of 1-4 hex digits, or fewer around one `::` that stands for at
 * least one zero group; an IPv4 address (no leading zeros) may end it in place of the last two groups; a zone (`%eth0`)
 * may follow.
 */
function isIPv6(text: string): boolean {
  const percent = text.indexOf('%');
  if (percent >= 0 && !ZONE.test(text.slice(percent + 1))) return false;
  const address = percent >= 0 ? text.slice(0, percent) : text;
  const gap = address.indexOf('::');
  if (gap >= 0 && address.includes('::', gap + 1)) return false;
  const head = gap >= 0 ? address.slice(0, gap) : address;
  const tail = gap >= 0 ? address.slice(gap + 2) : '';
  const parts = [...(head ? head.split(':') : []), ...(tail ? tail.split(':') : [])];
  // An IPv4 address can only be the last part written, and never right before a trailing `::`.
  const endsInV4 = (gap < 0 || tail !== '') && parts.length > 0 && isIPv4(parts[parts.length - 1]);
  const groups = endsInV4 ? parts.slice(0, -1) : parts;
  if (!groups.every((g) => HEX_GROUP.test(g))) return false;
  const count = groups.length + (endsInV4 ? 2 : 0);
  return gap >= 0 ? count <= 7 : count === 8;
}

/** Dotted quad, each octet 0-255 with no leading zero (net.isIPv4). */
function isIPv4(text: string): boolean {
  const octets = text.split('.');
  return octets.length === 4 && octets.every((o) => /^(?:0|[1-9][0-9]{0,2})$/.test(o) && Number(o) <= 255);
}
