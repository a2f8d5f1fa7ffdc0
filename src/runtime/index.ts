// The runtime's public face: the resource model, the State contract and its errors, controllers, clocks and the runtime.
export * from './resource.js';
export * from './errors.js';
export * from './state.js';
export * from './controller.js';
export * from './clock.js';
export * from './runtime.js';
export type { RuntimeLogger } from './runtime-context.js';
export * from './runtime-errors.js';
export * from './controller-status.js';
export * from './backoff.js';
export * from './dependency-graph.js';
// Backends:
