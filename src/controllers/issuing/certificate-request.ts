// Builds the request an issuing controller wants for one certificate; SANs come split as CertSANs holds them.
import type { CaName, CertificateRequest } from '../../resources/common.js';
import type { SplitSans } from '../sans.js';

/** One certificate a controller wants, before the CA is attached: what the impact preview compares. */
export interface CertificatePlan {
  name: string;
  issuer: CaName;
  request: CertificateRequest;
}

const NO_SANS: SplitSans = { ips: [], dnsNames: [] };

export function certificateRequest(profile: string, commonName: string, organizations: string[], validityHours: number, sans: SplitSans = NO_SANS): CertificateRequest {
  return { profile, commonName, organizations, dnsNames: sans.dnsNames, ipAddresses: sans.ips, validityHours };
}
