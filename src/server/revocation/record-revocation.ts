// Records a revocation (or lifts one) in the store: what `trustctl revoke` does, over apid or locally with --state.
// The input is checked in full before anything is written, so a refusal leaves the store as it was.
import type { Clock } from '../../runtime/clock.js';
import type { Pointer, Resource } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';
import { REVOCATION_REASON_NAMES } from '../../pki/crl.js';
import type { RevocationReasonCode } from '../../pki/crl.js';
import { parseCertificatePem } from '../../pki/index.js';
import { MAX_REASON_LENGTH, Revocations, normalSerial, revocationId } from '../../resources/revocations.js';
import type { RevocationSpec } from '../../resources/revocations.js';
import { readCatalog } from './revocation-catalog.js';
import { RevocationInputError, checkedCa, parseFingerprint, parseSerial, resolveTarget, selectorKind } from './revocation-target.js';
import type { RevocationSelector } from './revocation-target.js';

export interface RevokeRequest extends RevocationSelector {
  reason?: string;
  /** An RFC 5280 CRLReason name; keyCompromise when absent (a leaked credential is the case this is for). */
  reasonCode?: string;
}

export interface RevokeResult {
  /** False when the certificate was revoked already (the first record stands). */
  changed: boolean;
  revocation: Resource<RevocationSpec>;
}

/** What the audit trail (or anyone) may want to hear about: one call per revocation recorded or lifted. */
export interface RevocationEvent {
  action: 'revoked' | 'lifted';
  revocation: RevocationSpec;
  by: string;
}
export type RevocationListener = (event: RevocationEvent) => void;

export interface RevocationWriter {
  state: State;
  clock: Clock;
  /** Who asks: the caller's certificate subject, or `local (--state DIR)`. */
  by: string;
  onChange?: RevocationListener;
}

export const DEFAULT_REASON_CODE: RevocationReasonCode = 'keyCompromise';

export async function revokeCertificate(request: RevokeRequest, w: RevocationWriter): Promise<RevokeResult> {
  const reason = checkedReason(request.reason);
  const reasonCode = checkedReasonCode(request.reasonCode);
  const now = w.clock.now().toJSDate();
  const target = resolveTarget(request, await readCatalog(w.state), now);
  const pointer = revocationPointer(target.ca, target.serial);
  const existing = await w.state.find<RevocationSpec>(pointer);
  if (existing) return { changed: false, revocation: existing };
  const spec: RevocationSpec = { ...target, reason, reasonCode, revokedAt: now.toISOString(), revokedBy: w.by };
  const revocation = await w.state.create<RevocationSpec>({ metadata: pointer, spec });
  w.onChange?.({ action: 'revoked', revocation: spec, by: w.by });
  return { changed: true, revocation };
}

/** Lifts the revocations the selector matches (one, unless the same serial was revoked under several CAs and no ca was given: refused). */
export async function liftRevocation(selector: RevocationSelector, w: RevocationWriter): Promise<RevocationSpec[]> {
  const kind = selectorKind(selector);
  const ca = checkedCa(selector.ca);
  const all = (await w.state.list<RevocationSpec>({ namespace: Revocations.namespace, type: Revocations.type })).map((r) => r.spec).filter((r) => !ca || r.ca === ca);
  let matches: RevocationSpec[];
  if (kind === 'fingerprint') {
    const fingerprint = parseFingerprint(selector.fingerprint!);
    matches = all.filter((r) => r.fingerprint === fingerprint);
  } else {
    const serial = kind === 'serial' ? parseSerial(selector.serial!) : certificateSerial(selector.cert!);
    matches = all.filter((r) => r.serial === serial);
  }
  if (matches.length === 0) throw new RevocationInputError(kind, 'no revocation matches it: `trustctl get revocations` lists them');
  if (matches.length > 1) throw new RevocationInputError('ca', `revocations under the ${matches.map((m) => m.ca).join(' and ')} CAs match: add --ca to say which to lift`);
  const [lifted] = matches;
  await w.state.destroy(revocationPointer(lifted.ca, lifted.serial));
  w.onChange?.({ action: 'lifted', revocation: lifted, by: w.by });
  return matches;
}

const revocationPointer = (ca: RevocationSpec['ca'], serial: string): Pointer => ({ namespace: Revocations.namespace, type: Revocations.type, id: revocationId(ca, serial) });

function certificateSerial(pem: string): string {
  try {
    return normalSerial(parseCertificatePem(pem, 'cert').serialNumber);
  } catch (err) {
    throw new RevocationInputError('cert', `${(err as Error).message.replace(/^cert: /, '')}: give the PEM certificate whose revocation to lift`);
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function checkedReason(reason: string | undefined): string {
  const text = reason?.trim() ?? '';
  if (!text) throw new RevocationInputError('reason', 'say in a few words why, e.g. --reason "laptop stolen" (it is shown to whoever presents the certificate)');
  if (text.length > MAX_REASON_LENGTH) throw new RevocationInputError('reason', `is ${text.length} characters; keep it to ${MAX_REASON_LENGTH} (a sentence)`);
  if (CONTROL.test(text)) throw new RevocationInputError('reason', 'contains a control character (a newline, say): give one line of text');
  return text;
}

function checkedReasonCode(code: string | undefined): RevocationReasonCode {
  if (code === undefined) return DEFAULT_REASON_CODE;
  if (!(REVOCATION_REASON_NAMES as readonly string[]).includes(code)) throw new RevocationInputError('reason-code', `expected one of ${REVOCATION_REASON_NAMES.join(', ')}, got ${JSON.stringify(code.slice(0, 40))}`);
  return code as RevocationReasonCode;
}
