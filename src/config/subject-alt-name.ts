// What may stand in a certSANs list: an IP address or a DNS name (optionally a leading wildcard label).
import { ipFamily } from '../pki/index.js';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

export function isIPAddress(value: string): boolean {
  return ipFamily(value) !== 0;
}

export function isDNSName(value: string): boolean {
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (labels[0] === '*' && labels.length > 1) labels.shift();
  if (!labels.every((l) => LABEL.test(l))) return false;
  // An all-numeric last label would make "10.0.0.300" a host name; RFC 1123 forbids it, so it reads as a bad IP.
  return !/^[0-9]+$/.test(labels[labels.length - 1]);
}

/** Undefined when `value` is a valid SAN, else the problem in the house style. */
export function subjectAltNameProblem(value: string): string | undefined {
  if (isIPAddress(value) || isDNSName(value)) return undefined;
  return `expected an IP address or DNS name, got ${JSON.stringify(value)}`;
}

/** Undefined when `value` can be a host name (a DNS name without wildcard), else the problem and the fix. */
export function hostnameProblem(value: string): string | undefined {
  if (isDNSName(value) && !value.includes('*')) return undefined;
  return `expected a host name such as worker-1 or node1.example.com (letters, digits, hyphens and dots), got ${JSON.stringify(value)}`;
}
