// trustd: the CSR-signing service of control-plane nodes.
export { startTrustd, TRUSTD_PORT, CERTIFICATE_PATH } from './trustd-server.js';
export type { Trustd, TrustdOptions } from './trustd-server.js';
export { DEFAULT_RATE_LIMIT } from '../rate-limit.js';
export type { RateLimitOptions } from '../rate-limit.js';
export { DEFAULT_TRUSTD_VALIDITY_HOURS, signCsr } from './sign-csr.js';
export { TrustdError } from './trustd-error.js';
export { KUBELET_CSR_PATH, DEFAULT_KUBELET_VALIDITY_HOURS } from './kubelet-csr-call.js';
export { kubeletCsrRefusal } from './kubelet-csr-rules.js';
export { BOOTSTRAP_TOKEN_FORMAT } from './kubelet-requester.js';
