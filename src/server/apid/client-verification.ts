// Who is calling: the client certificate checked against the node's accepted CAs, in Talos's order and words, so a
// person with an expired or wrong certificate reads the same message talosctl would show them.
import type { X509Certificate } from 'node:crypto';
import { structureOf } from '../../pki/certificate-structure.js';
import { unhandledCriticalExtensions } from '../../pki/extensions.js';
import { verifyChain } from '../../pki/index.js';
import { normalSerial } from '../../resources/revocations.js';

export interface ClientIdentity {
  /** Go's pkix.Name form, e.g. `CN=talosctl-client,O=os:admin`. */
  subject: string;
  /** The Organization values: the roles the certificate claims. */
  roles: string[];
  notAfter: Date;
  /** SHA-256 fingerprint of the certificate: what per-client limits count by. */
  fingerprint: string;
  /** Serial number, lower-case hex without leading zeros: what a revocation is looked up by. */
  serial: string;
}

export type ClientVerdict = { ok: true; identity: ClientIdentity } | { ok: false; message: string };

export const NO_CLIENT_CERTIFICATE = 'tls: client didn\'t provide a certificate';

/**
 * Checks, in this order: a certificate was given; it carries no critical extension we do not understand (Go's
 * Verify refuses those before anything else: a critical extension may restrict what the certificate is good for, and
 * ignoring it would grant more than the issuer meant); it chains to an accepted CA; it is valid at `at`; its EKU is
 * exactly [clientAuth] (Talos >= 1.12 refuses server certificates and multi-purpose ones as client credentials).
 */
export function verifyClientCertificate(peer: X509Certificate | undefined, acceptedCAs: readonly X509Certificate[], at: Date): ClientVerdict {
  if (!peer) return { ok: false, message: NO_CLIENT_CERTIFICATE };
  const s = structureOf(peer);
  const unhandled = unhandledCriticalExtensions(s.extensions);
  if (unhandled.length)
    return { ok: false, message: `x509: unhandled critical extension (${unhandled.join(', ')} in certificate "${s.subject.text}"): use a client certificate without it (trustctl config new)` };
  const chain = verifyChain(peer, acceptedCAs, { at });
  if (!chain.ok) return { ok: false, message: chain.message };
  const eku = s.extensions.extKeyUsage ?? [];
  const exactlyClientAuth = eku.length === 1 && eku[0] === 'clientAuth' && !(s.extensions.otherExtKeyUsages?.length ?? 0);
  if (!exactlyClientAuth) return { ok: false, message: `certificate "${s.subject.text}" is missing the client auth extended key usage` };
  return { ok: true, identity: { subject: s.subject.text, roles: [...s.subject.organizations].sort(), notAfter: s.notAfter, fingerprint: peer.fingerprint256, serial: normalSerial(peer.serialNumber) } };
}
