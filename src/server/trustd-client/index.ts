// The worker side of trustd: the loop that gets the worker's apid certificate signed.
export { startTrustdClient, TRUSTD_CLIENT_BACKOFF } from './trustd-client.js';
export type { TrustdClient, TrustdClientOptions } from './trustd-client.js';
export { startKubeletCsrClient } from './kubelet-csr-client.js';
export type { KubeletCsrClientOptions } from './kubelet-csr-client.js';
export { parseEndpoint, formatEndpoint, endpointFromControlPlane, TRUSTD_DEFAULT_PORT } from './trustd-endpoints.js';
export type { HostPort } from './trustd-endpoints.js';
export { startRevocationFollower, REVOCATION_FOLLOWER_OWNER } from './revocation-follower.js';
export type { RevocationFollower, RevocationFollowerOptions } from './revocation-follower.js';
