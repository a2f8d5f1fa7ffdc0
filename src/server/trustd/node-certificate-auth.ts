// A node authenticating to trustd with its current apid certificate instead of a token, as Kubernetes and Talos do:
// the bootstrap token is for the first certificate, the certificate renews itself (and a single-use join token is spent
// by then). The apid certificate is serverAuth only (trustd strips clientAuth), so the TLS stack would not take it as
// a client certificate; trustd judges it here, for these two purposes only: it must chain to an accepted OS CA for
// serverAuth at trustd's clock and not be revoked. The handshake (CertificateVerify) proves the caller holds its key.
// A renewal may drop names but not add any: a new name needs a token, whose binding decides it.
import type { X509Certificate } from 'node:crypto';
import type { ParsedCsr } from '../../pki/index.js';
import { inspectCertificate, verifyChain } from '../../pki/index.js';
import type { ChainFailure } from '../../pki/index.js';
import type { RevokedSet } from '../revocation/index.js';
import { canonicalIp } from '../join-tokens/join-token-request.js';
import { refusal } from './revoked-node-check.js';
import { TrustdError } from './trustd-error.js';

/** What the caller asked for, the first words of every refusal: `certificate renewal` or `revocation list`. */
export type NodeCertificatePurpose = 'certificate renewal' | 'revocation list';

export interface NodeCertificate {
  /** Hex, as X509Certificate and the audit trail write it. */
  serial: string;
  /** The names the certificate carries (by nameKey): all a renewal may ask for. */
  names: ReadonlySet<string>;
}

const JOIN_AGAIN = 'join again with a token (trustctl token create)';

const NOT_ACCEPTED: Record<ChainFailure, string> = {
  UnknownAuthority: 'the presented certificate is not from an accepted OS CA',
  Expired: 'the presented certificate is not valid now',
  NotYetValid: 'the presented certificate is not valid now',
  WrongUsage: "the presented certificate is not a node's apid certificate",
};

/** The node behind a presented certificate; TrustdError 401 (not accepted) or 403 (revoked) naming the rule and fix. */
export function nodeCertificate(peer: X509Certificate, accepted: readonly X509Certificate[], revoked: RevokedSet, now: Date, purpose: NodeCertificatePurpose): NodeCertificate {
  const chain = verifyChain(peer, accepted, { at: now, purpose: 'serverAuth' });
  if (!chain.ok) throw new TrustdError(401, `${purpose}: ${NOT_ACCEPTED[chain.reason]} (${chain.message}): ${JOIN_AGAIN}`);
  const revocation = revoked.find('os', peer.serialNumber);
  if (revocation) throw refusal('revoked certificate', 'the presented certificate is revoked', revocation, `${purpose}: `);
  return { serial: peer.serialNumber, names: carriedNames(peer) };
}

/** One spelling per name, so names compare as text: IP addresses canonical, DNS names in lower case. */
export const nameKey = (name: string): string => canonicalIp(name).toLowerCase();

/** The names (DNS and IP) a certificate carries, by nameKey. */
export function carriedNames(cert: X509Certificate): Set<string> {
  const info = inspectCertificate(cert);
  return new Set([...info.ipAddresses, ...info.dnsNames].map(nameKey));
}

/** TrustdError 403 when a renewal's CSR asks for a name the presented certificate does not carry. */
export function checkRenewalNames(csr: Pick<ParsedCsr, 'ipAddresses' | 'dnsNames'>, node: NodeCertificate): void {
  const outside = [...csr.ipAddresses, ...csr.dnsNames].filter((n) => !node.names.has(nameKey(n)));
  if (outside.length === 0) return;
  throw new TrustdError(403, `certificate renewal: the CSR asks for ${outside.join(', ')}, which the presented certificate does not carry: ${JOIN_AGAIN}`);
}
