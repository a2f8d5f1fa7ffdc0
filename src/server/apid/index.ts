// The public face of apid: the server, its API description and the helpers its client shares.
export { startApid } from './apid-server.js';
export type { Apid, ApidOptions } from './apid-server.js';
export * from './api-paths.js';
export { APID_PORT, ETCD_CLIENT_PORT, parseNodeAddress, formatNodeAddress } from './node-address.js';
export type { NodeAddress } from './node-address.js';
export { NOT_AUTHORIZED, IMPERSONATOR_ROLE } from './authorization.js';
export { NO_CLIENT_CERTIFICATE } from './client-verification.js';
export { patchMachineConfig } from './machine-config-patch.js';
export type { PatchText } from './machine-config-patch.js';
