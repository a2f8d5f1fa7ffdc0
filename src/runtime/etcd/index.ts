export { openEtcdState, EtcdState, DEFAULT_ETCD_HISTORY_LIMIT } from './etcd-state.js';
export type { EtcdStateOptions, EtcdFence } from './etcd-state.js';
export { parseEtcdUrl } from './etcd-url.js';
export type { EtcdLocation } from './etcd-url.js';
export { EtcdLeaderElector } from './etcd-leader-elector.js';
export type { EtcdLeaderElectorOptions } from './etcd-leader-elector.js';
