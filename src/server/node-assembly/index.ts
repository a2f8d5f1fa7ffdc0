// Node assembly: which services a node runs, in which order, and how it starts and stops, for a node on its own store
// and for a replica of a shared one.
export { startNode } from './start-node.js';
export type { RunningNode, StartNodeOptions } from './start-node.js';
export { startReplica } from './start-replica.js';
export type { ReplicaStore, RunningReplica, StartReplicaOptions } from './start-replica.js';
export type { NodeServiceOptions, ServiceNode } from './node-services.js';
