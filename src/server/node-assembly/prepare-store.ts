// What a node and a replica do alike once their store is open, before their controllers run: say so (serve logs it),
// refuse a store restored or edited without its key before anything reads or serves it, let the caller put the machine
// config in place (serve applies --config; a test writes one). The services its type calls for start after this.
import type { ServiceNode } from './node-services.js';

export interface StoreHooks<N extends ServiceNode> {
  /** Told once the store is open, before anything is read from it. */
  opened?(node: N): void;
  /** Runs once the store's sealing is verified and before any service starts. */
  prepare?(node: N): Promise<void>;
}

export async function prepareStore<N extends ServiceNode>(node: N, hooks: StoreHooks<N>): Promise<void> {
  hooks.opened?.(node);
  await node.state.verifySealing();
  await hooks.prepare?.(node);
}
