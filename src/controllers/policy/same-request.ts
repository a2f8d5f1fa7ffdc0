// Compares what was asked for with what is wanted now, ignoring order of names (SANs and organizations are sets).
import type { CertificateRequest } from '../../resources/common.js';

const sorted = (list: readonly string[]) => [...new Set(list)].sort();
const sameSet = (a: readonly string[], b: readonly string[]) => sorted(a).join('\n') === sorted(b).join('\n');

export function requestDifferences(current: CertificateRequest, wanted: CertificateRequest): string[] {
  const out: string[] = [];
  if (current.profile !== wanted.profile) out.push(`profile ${current.profile} -> ${wanted.profile}`);
  if (current.commonName !== wanted.commonName) out.push(`CN ${current.commonName} -> ${wanted.commonName}`);
  if (!sameSet(current.organizations, wanted.organizations)) out.push(`O ${current.organizations.join(',')} -> ${wanted.organizations.join(',')}`);
  for (const [label, a, b] of [
    ['SAN', current.dnsNames, wanted.dnsNames],
    ['SAN', current.ipAddresses, wanted.ipAddresses],
  ] as const) {
    for (const added of b.filter((x) => !a.includes(x))) out.push(`${label} +${added}`);
    for (const removed of a.filter((x) => !b.includes(x))) out.push(`${label} -${removed}`);
  }
  if (current.validityHours !== wanted.validityHours) out.push(`lifetime ${current.validityHours}h -> ${wanted.validityHours}h`);
  return out;
}
