// The certificate impact of a config change, computed without issuing: for `patch --dry-run` and apid's dry runs.
export { certificateImpact, formatCertificateImpact, CA_LABELS } from './certificate-impact.js';
export type { CertificateImpact, CertificateChange, IssuedSetImpact, CaChange, ImpactReason } from './certificate-impact.js';
export { issuancePlan } from './issuance-plan.js';
export type { IssuancePlan, IssuedSetPlan } from './issuance-plan.js';
