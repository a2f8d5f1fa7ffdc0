// A node on its own store (one SQLite file in its state directory): the store opened, the machine config in place,
// its services started, then its controllers. `trustctl serve` and the in-process test clusters start nodes through
// this, so the services, their order, the rollback when one fails and the stop order are the same everywhere.
import { openNode } from '../node.js';
import type { Node, NodeOptions } from '../node.js';
import type { NodeServiceOptions, NodeServices } from './node-services.js';
import { startNodeServices } from './node-services.js';
import { prepareStore } from './prepare-store.js';
import type { StoreHooks } from './prepare-store.js';
import { once } from './stop-once.js';

export interface StartNodeOptions extends StoreHooks<Node> {
  node: NodeOptions;
  /** false: the controllers alone, no listener and no port (serve --once); the audit trail's timer does not run either. */
  services: Omit<NodeServiceOptions, 'caKeys' | 'clock'> | false;
}

export interface RunningNode {
  node: Node;
  /** Those of the services started (none with `services: false`). */
  ports: Partial<NodeServices['ports']>;
  /** Resolves once apid serves with the node's certificate (at once without services). */
  ready: Promise<void>;
  /** Services first (no call reaches a store being closed), then the controllers, the audit trail and the store. */
  stop(): Promise<void>;
}

/** If a step fails, what started is stopped and the store closed before the error is thrown. */
export async function startNode(options: StartNodeOptions): Promise<RunningNode> {
  const node = await openNode(options.node);
  const { caKeys, clock } = options.node;
  let services: NodeServices | undefined;
  try {
    await prepareStore(node, options);
    if (options.services) services = await startNodeServices(node, { ...options.services, ...(caKeys ? { caKeys } : {}), ...(clock ? { clock } : {}) });
    await node.runtime.start();
    if (services) node.audit.start();
  } catch (err) {
    await services?.stop().catch(() => undefined);
    await node.stop().catch(() => undefined);
    throw err;
  }
  return {
    node,
    ports: services?.ports ?? {},
    ready: services?.ready ?? Promise.resolve(),
    stop: once(async () => {
      await services?.stop();
      await node.stop();
    }),
  };
}
