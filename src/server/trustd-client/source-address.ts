// Which local address a node's requests to trustd leave from. trustd judges a kubelet serving CSR by the address the
// request came from (the node authorizer's rule: a node may name only itself), so a node whose address is local to
// this machine binds its connection to it; otherwise the kernel would pick the route's source (on one machine with
// nodes on 127.0.0.11-13, always 127.0.0.1) and the node could never get a serving certificate for its own address.
import { ipFamily } from '../../pki/index.js';
import { networkInterfaces } from 'node:os';

/** The first of `addresses` this machine can send from (an interface's address, or any of loopback's 127/8 and ::1). */
export function sourceAddress(addresses: readonly string[]): string | undefined {
  const local = new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)));
  return addresses.find((a) => ipFamily(a) !== 0 && (local.has(a) || /^127\./.test(a) || a === '::1'));
}
