// The cluster network fields the Kubernetes certificates depend on: the service subnets (whose first addresses are the
// in-cluster `kubernetes` service IPs), the cluster DNS domain and the API server's local port. Absent fields take
// Talos' defaults, so a config written before these fields were read issues the same certificates as before.
import { bytesToIp, ipFamily, ipToBytes } from '../pki/ip.js';
import { isDNSName } from './subject-alt-name.js';

export const DEFAULT_DNS_DOMAIN = 'cluster.local';
export const DEFAULT_SERVICE_SUBNETS: readonly string[] = ['10.96.0.0/12'];
export const DEFAULT_LOCAL_API_SERVER_PORT = 6443;

interface Cidr {
  bytes: Buffer;
  prefix: number;
}

function parseCidr(text: string): Cidr | undefined {
  const [address, prefixText, extra] = text.trim().split('/');
  if (extra !== undefined || prefixText === undefined || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const family = ipFamily(address);
  const prefix = Number(prefixText);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
  return { bytes: ipToBytes(address), prefix };
}

/** Undefined when `text` is a CIDR such as 10.96.0.0/12 or fd00:10:96::/112, else the problem. */
export function serviceSubnetProblem(text: string): string | undefined {
  const cidr = parseCidr(text);
  if (!cidr) return `expected a CIDR such as 10.96.0.0/12 or fd00:10:96::/112, got ${JSON.stringify(text)}`;
  // /32 and /128 have no address after the network address to give the service.
  if (cidr.prefix >= cidr.bytes.length * 8) return `${text} is a single address; a service subnet needs room for the kubernetes service IP`;
  return undefined;
}

/** At most one subnet per family (Kubernetes' dual-stack rule), each a valid CIDR. */
export function serviceSubnetsProblems(subnets: readonly string[]): string[] {
  const problems = subnets.flatMap((s, i) => {
    const p = serviceSubnetProblem(s);
    return p ? [`[${i}]: ${p}`] : [];
  });
  if (problems.length) return problems;
  const families = subnets.map((s) => ipFamily(s.split('/')[0]));
  if (subnets.length > 2 || new Set(families).size !== families.length)
    return [`: expected one IPv4 subnet, one IPv6 subnet or one of each (dual-stack), got ${subnets.join(', ')}`];
  return [];
}

/**
 * The first address of a subnet (the network address plus one), which kube-apiserver gives the `kubernetes` service:
 * 10.96.0.0/12 -> 10.96.0.1. Host bits in the text are cleared first, as kube-apiserver's CIDR parsing does.
 */
export function firstServiceAddress(subnet: string): string {
  const cidr = parseCidr(subnet);
  if (!cidr) throw new Error(serviceSubnetProblem(subnet));
  const bytes = Buffer.from(cidr.bytes);
  for (let bit = cidr.prefix; bit < bytes.length * 8; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  for (let i = bytes.length - 1; i >= 0; i--) {
    bytes[i] = (bytes[i] + 1) & 0xff;
    if (bytes[i] !== 0) break;
  }
  return bytesToIp(bytes);
}

export function dnsDomainProblem(domain: string): string | undefined {
  if (isDNSName(domain) && !domain.includes('*') && !domain.endsWith('.')) return undefined;
  return `expected a DNS domain such as cluster.local, got ${JSON.stringify(domain)}`;
}

export function portProblem(port: unknown): string | undefined {
  if (typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535) return undefined;
  return `expected a port number from 1 to 65535, got ${JSON.stringify(port)}`;
}
