// Splits names into IP addresses and DNS names, sorted and without duplicates, as certificate SANs want them.
import { ipFamily } from '../pki/index.js';

export interface SplitSans {
  ips: string[];
  dnsNames: string[];
}

export function splitSans(names: Iterable<string>): SplitSans {
  const ips = new Set<string>();
  const dnsNames = new Set<string>();
  for (const raw of names) {
    const name = raw.trim();
    if (!name) continue;
    if (ipFamily(name)) ips.add(name);
    else dnsNames.add(name.toLowerCase());
  }
  return { ips: [...ips].sort(compareIps), dnsNames: [...dnsNames].sort() };
}

/** IPv4 before IPv6, then numerically, so 10.0.0.9 sorts before 10.0.0.10. */
function compareIps(a: string, b: string): number {
  const va = ipFamily(a);
  const vb = ipFamily(b);
  if (va !== vb) return va - vb;
  if (va === 4) {
    const na = a.split('.').map(Number);
    const nb = b.split('.').map(Number);
    for (let i = 0; i < 4; i++) if (na[i] !== nb[i]) return na[i] - nb[i];
    return 0;
  }
  return a.localeCompare(b);
}

export function uniqueList(items: Iterable<string>): string[] {
  return [...new Set(items)];
}
