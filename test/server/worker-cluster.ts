// Two nodes (a control plane and a worker), each on its own SQLite file, on one manual clock, with a real trustd on
// 127.0.0.1 and the worker's trustd client: the small cluster the worker-join and renewal tests run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMachineConfig } from '../../src/config/index.js';
import type { MachineType } from '../../src/config/index.js';
import { ApiCertificates, MACHINE_CONFIG_ID, MachineConfigs } from '../../src/resources/index.js';
import type { IssuedCertificatesSpec } from '../../src/resources/index.js';
import type { ManualClock } from '../../src/runtime/manual-clock.js';
import type { ResourceDefinition } from '../../src/runtime/resource.js';
import type { State } from '../../src/runtime/state.js';
import { startNode } from '../../src/server/node-assembly/index.js';
import type { Node } from '../../src/server/node.js';
import { startTrustdClient } from '../../src/server/trustd-client/index.js';
import type { TrustdClient } from '../../src/server/trustd-client/index.js';
import type { Trustd } from '../../src/server/trustd/index.js';
import { fixtureBundle } from '../controllers/node-harness.js';

export const bundle = fixtureBundle();

export const find = <S>(state: State, def: ResourceDefinition<S>, id: string) => state.find<S>({ namespace: def.namespace, type: def.type, id });

/** Two nodes (a control plane and a worker), each on its own SQLite file, on one manual clock: a small cluster. */
export class Cluster {
  readonly dirs: string[] = [];
  readonly nodes: Node[] = [];
  trustd: Trustd | undefined;
  client: TrustdClient | undefined;
  /** What the client (and whatever else a test hands it) logged, one line each: shown when `until` gives up. */
  readonly logs: string[] = [];

  constructor(readonly clock: ManualClock) {}

  /** `edit` changes the generated machine config's YAML before the node starts (a join token as machine.token). */
  async node(type: MachineType, address: string, hostname: string, edit: (yaml: string) => string = (y) => y): Promise<Node> {
    const dir = mkdtempSync(join(tmpdir(), `trustplane-${type}-`));
    this.dirs.push(dir);
    const config = generateMachineConfig(bundle, { type, clusterName: 'demo', endpoint: 'https://127.0.0.1:6443' });
    // The controllers alone: each test starts the trustd or client it is about, with its own limits, jitter and logger.
    const { node } = await startNode({
      node: { stateDir: dir, clock: this.clock, addresses: { addresses: [address], hostname } },
      services: false,
      prepare: async ({ state }) => {
        await state.create({ metadata: { namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID }, spec: { yaml: edit(config.toYaml()) } });
      },
    });
    this.nodes.push(node);
    return node;
  }

  startClient(worker: Node, endpoint: string): void {
    this.client = startTrustdClient({ state: worker.state, endpoints: [endpoint], clock: this.clock, random: () => 0.5, logger: (m, f) => this.logs.push(`${m} ${JSON.stringify(f)}`) });
  }

  /** Lets timers due now, the runtimes and the client's request (real I/O on loopback) run until `done` holds. */
  async until(done: () => Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      await this.clock.advance(0);
      for (const n of this.nodes) await n.runtime.settled();
      await this.client?.settled();
      if (await done()) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error(`never happened: ${what}; log:\n${this.logs.join('\n')}`);
  }

  async destroy(): Promise<void> {
    await this.client?.close();
    await this.trustd?.close();
    for (const n of this.nodes) await n.stop();
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

/** The apid server certificate installed on a node, if any. */
export const serverCert = async (node: Node) => (await find<IssuedCertificatesSpec>(node.state, ApiCertificates, 'api'))?.spec.certificates.server;
