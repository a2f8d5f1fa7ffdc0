// The mTLS matrix: who calls (no certificate, bad certificates, each role) x what they call, and the expected answer.
import type { Credential } from './apid-harness.js';

export interface Call {
  name: string;
  method: string;
  path: string;
  body?: unknown;
}

export const CALLS: Call[] = [
  { name: 'read status', method: 'GET', path: '/v1/resources/certificatestatus' },
  { name: 'read a secret', method: 'GET', path: '/v1/resources/osrootsecrets/os' },
  { name: 'patch config', method: 'PATCH', path: '/v1/machineconfig', body: { patches: ['machine:\n  certSANs: [matrix.example.com]\n'], dryRun: true } },
  { name: 'config new', method: 'POST', path: '/v1/talosconfig', body: { roles: ['os:reader'], ttlHours: 24 } },
];

export interface Expected {
  status: number;
  /** The exact `error` message for refusals. */
  error?: string;
}

const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** What each credential gets for each call; `now` is the node's (manual) clock, `notAfter`/`notBefore` the cert's. */
export function expected(cred: Credential, call: Call, now: Date, validity: { notBefore: Date; notAfter: Date } | undefined): Expected {
  const refused = (error: string): Expected => ({ status: 401, error });
  switch (cred.name) {
    case 'no certificate':
      return refused("tls: client didn't provide a certificate");
    case 'unknown CA':
      return refused('x509: certificate signed by unknown authority');
    case 'expired':
      return refused(`x509: certificate has expired or is not yet valid: current time ${rfc3339(now)} is after ${rfc3339(validity!.notAfter)}`);
    case 'not yet valid':
      return refused(`x509: certificate has expired or is not yet valid: current time ${rfc3339(now)} is before ${rfc3339(validity!.notBefore)}`);
    case 'serverAuth only':
      return refused('certificate "CN=talos-node" is missing the client auth extended key usage');
    case 'unknown critical extension':
      return refused('x509: unhandled critical extension (1.2.3.4 in certificate "CN=critical,O=os:admin"): use a client certificate without it (trustctl config new)');
  }
  const allowed: Record<string, string[]> = {
    'os:reader': ['read status'],
    'os:operator': ['read status'],
    'os:admin': ['read status', 'read a secret', 'patch config', 'config new'],
    'os:etcd:backup': [],
  };
  return allowed[cred.name]?.includes(call.name) ? { status: 200 } : { status: 403, error: 'not authorized' };
}
