// Brings a named set of certificates to what is wanted: keeps each one the re-issue policy lets stand, issues a new key
// and certificate for the rest, and says when the earliest renewal is due.
import type { SigningCA } from '../../pki/index.js';
import { issueCertificateAndKey } from '../../pki/index.js';
import type { LeafProfile } from '../../pki/index.js';
import type { CaName, CertificateRequest, IssuedCertificate, IssuedSet, IssueReason } from '../../resources/common.js';
import { rotateCaCommand } from '../../resources/common.js';
import type { AuditDetails } from '../../resources/audit-records.js';
import { certificateDetails } from '../audit/certificate-details.js';
import { parseCertificate } from '../certificate-cache.js';
import { rememberIssuedPair, reissueVerdict } from '../policy/reissue-policy.js';
import { renewalTime } from '../policy/renewal-time.js';
import { freshLeafKeys } from './leaf-keys.js';
import type { LeafKeySource } from './leaf-keys.js';

export interface WantedCertificate {
  name: string;
  issuer: CaName;
  ca: SigningCA;
  request: CertificateRequest;
}

export interface IssueSetResult {
  certificates: IssuedSet;
  /** Each certificate issued now, with what its audit record says about it. */
  issued: { name: string; reason: IssueReason; message: string; details: AuditDetails }[];
  /** The earliest renewal time of the set: when to come back. */
  nextRenewal: Date | undefined;
}

export async function issueSet(
  setId: string,
  current: IssuedSet,
  wanted: readonly WantedCertificate[],
  now: Date,
  leafKeys: LeafKeySource = freshLeafKeys,
): Promise<IssueSetResult> {
  const certificates: IssuedSet = {};
  const issued: IssueSetResult['issued'] = [];
  for (const w of wanted) {
    const held = current[w.name];
    const verdict = reissueVerdict({ current: held, wanted: w.request, issuer: w.ca, now });
    if (!verdict) {
      certificates[w.name] = held!;
      continue;
    }
    const { certificate, clampedTo, details } = await issueOne(setId, w, now, verdict.reason, leafKeys);
    const message = verdict.message + clampNote(w, now, clampedTo);
    certificates[w.name] = { ...certificate, reasonMessage: message };
    issued.push({ name: w.name, reason: verdict.reason, message, details });
  }
  const renewals = Object.values(certificates).map((c) => Date.parse(c.renewAt));
  const nextRenewal = renewals.length ? new Date(Math.min(...renewals)) : undefined;
  return { certificates, issued, nextRenewal };
}

/**
 * A lifetime (serve --*-lifetime) running past the CA is cut to the CA's end, and the log line says so when the cut is
 * more than a rounding: the 10-year defaults under a 10-year CA lose seconds, not worth a word.
 */
function clampNote(w: WantedCertificate, now: Date, clampedTo: Date | undefined): string {
  if (!clampedTo) return '';
  const wantedMs = w.request.validityHours * 3_600_000;
  const cutMs = now.getTime() + wantedMs - clampedTo.getTime();
  return cutMs > wantedMs / 100 ? `; ends with the ${w.issuer} CA at ${clampedTo.toISOString()}, before the ${w.request.validityHours}h asked for` : '';
}

async function issueOne(setId: string, w: WantedCertificate, now: Date, reason: IssueReason, leafKeys: LeafKeySource): Promise<{ certificate: IssuedCertificate; clampedTo?: Date; details: AuditDetails }> {
  const caNotAfter = Date.parse(w.ca.cert.validTo);
  if (caNotAfter <= now.getTime()) {
    throw new Error(`${setId}/${w.name}: the ${w.issuer} CA expired at ${new Date(caNotAfter).toISOString()}; rotate it: ${rotateCaCommand(w.issuer)}`);
  }
  const { request } = w;
  const algorithm = w.ca.signer.algorithm;
  const made = await issueCertificateAndKey(w.ca, request.profile as LeafProfile, {
    key: await leafKeys(algorithm, algorithm === 'rsa' ? 2048 : undefined),
    now,
    validityHours: request.validityHours,
    commonName: request.commonName,
    organizations: request.organizations,
    dnsNames: request.dnsNames,
    ipAddresses: request.ipAddresses,
  });
  // Parsed through the cache: the status controller and the reissue policy read this same PEM next.
  const cert = parseCertificate(made.certPem);
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  // Renewal counts from issuance, not from the backdated NotBefore, so backdating does not pull renewal earlier.
  const from = new Date(Math.max(notBefore.getTime(), now.getTime()));
  rememberIssuedPair(made.certPem, made.keyPem);
  const certificate: IssuedCertificate = {
    crt: made.certPem,
    key: made.keyPem,
    issuer: w.issuer,
    request,
    issuedAt: now.toISOString(),
    renewAt: renewalTime(from, notAfter, `${setId}/${w.name}/${cert.serialNumber}`).toISOString(),
    reason,
  };
  return { certificate, details: certificateDetails(w.issuer, cert), ...(made.clampedTo ? { clampedTo: made.clampedTo } : {}) };
}
