// Certificate revocation lists (RFC 5280 §5): a v2 CRL signed by the CA, with a CRL number, the authority key
// identifier and a reason code on each entry, built with our DER writer like certificates are.
import { bitString, explicit, integer, sequence, time, tlv, unsignedInteger } from './der.js';
import type { CertificateAuthority } from './ca.js';
import { structureOf } from './certificate-structure.js';
import { PkiError } from './errors.js';
import { authorityKeyIdExtension, extension } from './extensions.js';
import { OID } from './oids.js';
import { encodePem } from './pem.js';
import { keyIdentifierOf, schemeFor, signWith } from './signature.js';

/**
 * RFC 5280 §5.3.1 CRLReason values a revocation here can carry. certificateHold (6) and removeFromCRL (8) are left
 * out: a revocation is lifted by removing its entry, not by suspending it.
 */
export const REVOCATION_REASON_CODES = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
} as const;
export type RevocationReasonCode = keyof typeof REVOCATION_REASON_CODES;
export const REVOCATION_REASON_NAMES = Object.keys(REVOCATION_REASON_CODES) as RevocationReasonCode[];

export interface CrlEntry {
  /** Serial number in hex (any case, no separators). */
  serial: string;
  revokedAt: Date;
  reasonCode: RevocationReasonCode;
}

export interface CrlOptions {
  /** The CRL number: must grow with each CRL the CA publishes. */
  number: number;
  thisUpdate: Date;
  nextUpdate: Date;
}

const ENUMERATED = 0x0a;
const VERSION_2 = integer(1);

/** The DER of a v2 CRL listing `entries`, signed by `ca`. */
export function buildCrl(ca: CertificateAuthority, entries: readonly CrlEntry[], options: CrlOptions): Buffer {
  if (!(options.nextUpdate.getTime() > options.thisUpdate.getTime())) throw new PkiError('InvalidOption', 'CRL nextUpdate: must be after thisUpdate');
  if (!Number.isSafeInteger(options.number) || options.number < 0) throw new PkiError('InvalidOption', `CRL number: expected a non-negative integer, got ${options.number}`);
  const s = structureOf(ca.cert);
  const scheme = schemeFor(ca.key.privateKey);
  const revoked = entries.map(entryDer);
  const tbs = sequence(
    VERSION_2,
    scheme.algorithmIdentifier,
    s.subjectDer,
    time(options.thisUpdate),
    time(options.nextUpdate),
    // An empty list is left out altogether, as RFC 5280 §5.1.2.6 asks.
    ...(revoked.length ? [sequence(...revoked)] : []),
    explicit(0, sequence(authorityKeyIdExtension(s.extensions.subjectKeyId ?? keyIdentifierOf(s.spki)), extension(OID.crlNumber, false, integer(options.number)))),
  );
  return sequence(tbs, scheme.algorithmIdentifier, bitString(signWith(scheme, ca.key.privateKey, tbs)));
}

export const crlPem = (der: Uint8Array): string => encodePem('X509 CRL', der);

function entryDer(entry: CrlEntry): Buffer {
  const serial = serialBytes(entry.serial);
  // §5.3.1: the reasonCode extension should be absent rather than say unspecified.
  const code = REVOCATION_REASON_CODES[entry.reasonCode];
  const extensions = code === 0 ? [] : [sequence(extension(OID.crlReason, false, tlv(ENUMERATED, Buffer.from([code]))))];
  return sequence(unsignedInteger(serial), time(entry.revokedAt), ...extensions);
}

function serialBytes(hex: string): Buffer {
  if (!/^[0-9a-fA-F]{1,40}$/.test(hex)) throw new PkiError('InvalidOption', `CRL entry serial: expected 1 to 40 hex digits, got ${JSON.stringify(hex)}`);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
}
