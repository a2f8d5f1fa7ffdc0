// IP addresses <-> the 4 or 16 octets of a GeneralName iPAddress.
import { isIPv4, isIPv6 } from 'node:net';
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
 * 4, 6 or 0 (not an IP address), as net.isIP says. net.isIP tries its IPv6 pattern on every DNS name, and V8 compiles
 * that pattern on first use: 11-17 ms of CPU in a process. An IPv6 address always holds a colon and no DNS name does,
 * so a name never reaches the pattern; a process pays for it only once it meets an IPv6 address (a control plane's
 * etcd SANs hold ::1) or a TLS client calls net.isIP itself.
 */
export function ipFamily(text: string): 0 | 4 | 6 {
  if (text.includes(':')) return isIPv6(text) ? 6 : 0;
  return isIPv4(text) ? 4 : 0;
}
