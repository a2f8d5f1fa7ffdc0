// What each of the five issuing controllers is made with: the lifetimes it issues for, where its CAs sign, where it
// records what it issued, and where each new certificate's key comes from. One set of defaults for all of them.
import type { CaKeys } from '../../config/ca-keys.js';
import type { AuditSink } from '../audit/audit-event.js';
import { noAudit } from '../audit/audit-event.js';
import { memoryCaKeys } from '../certificate-cache.js';
import { DEFAULT_LIFETIMES } from '../lifetimes.js';
import type { CertificateLifetimes } from '../lifetimes.js';
import { freshLeafKeys } from './leaf-keys.js';
import type { LeafKeySource } from './leaf-keys.js';

export interface IssuingOptions {
  /** Default: DEFAULT_LIFETIMES. */
  lifetimes?: CertificateLifetimes;
  /** Default: PEM keys in memory (memoryCaKeys). */
  caKeys?: CaKeys;
  /** Default: nothing recorded (simulations, previews). */
  audit?: AuditSink;
  /** Default: a fresh key for every certificate. */
  leafKeys?: LeafKeySource;
}

export function issuingWith(options: IssuingOptions = {}): Required<IssuingOptions> {
  return {
    lifetimes: options.lifetimes ?? DEFAULT_LIFETIMES,
    caKeys: options.caKeys ?? memoryCaKeys,
    audit: options.audit ?? noAudit,
    leafKeys: options.leafKeys ?? freshLeafKeys,
  };
}
