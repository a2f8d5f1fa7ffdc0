// Nodes in this process for rotation tests: real SQLite files, each a whole node as serve runs it (startNode: apid,
// trustd on control planes, the trustd client, revocation follower and kubelet CSR client on workers) on 127.0.0.1
// port 0, the system clock; the first node added is the control plane whose trustd the workers use. The CA rotation
// driver is left out: each test runs its own, with its poll interval and crash seams.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaKeys } from '../../src/config/ca-keys.js';
import { generateMachineConfig } from '../../src/config/index.js';
import type { MachineType, SecretsBundle } from '../../src/config/index.js';
import { MACHINE_CONFIG_ID, MachineConfigs } from '../../src/resources/index.js';
import { startNode } from '../../src/server/node-assembly/index.js';
import type { RunningNode } from '../../src/server/node-assembly/index.js';
import type { Node } from '../../src/server/node.js';

export interface Member {
  node: Node;
  running: RunningNode;
  /** apid's address. */
  address: string;
}

/** Control planes and workers in this process (real SQLite files, real apid/trustd on 127.0.0.1 port 0). */
export class LocalCluster {
  readonly dirs: string[] = [];
  readonly members: Member[] = [];
  private trustd: string | undefined;

  constructor(readonly bundle: SecretsBundle) {}

  /** `caKeys`: where this node's CAs sign (a PKCS#11 token); default their PEM keys in memory. */
  async add(type: MachineType, hostname: string, caKeys?: CaKeys): Promise<Member> {
    const dir = mkdtempSync(join(tmpdir(), `trustplane-rotation-${type}-`));
    this.dirs.push(dir);
    const config = generateMachineConfig(this.bundle, { type, clusterName: 'demo', endpoint: 'https://127.0.0.1:6443' });
    const running = await startNode({
      node: { stateDir: dir, addresses: { addresses: ['127.0.0.1'], hostname }, ...(caKeys ? { caKeys } : {}) },
      services: { listenAddress: '127.0.0.1', apidPort: 0, trustdPort: 0, rotationDriver: false, ...(this.trustd ? { trustdEndpoints: [this.trustd] } : {}) },
      prepare: async ({ state }) => {
        await state.create({ metadata: { namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID }, spec: { yaml: config.toYaml() } });
      },
    });
    this.trustd ??= running.ports.trustd === undefined ? undefined : `127.0.0.1:${running.ports.trustd}`;
    await running.ready;
    const member = { node: running.node, running, address: `127.0.0.1:${running.ports.apid}` };
    this.members.push(member);
    return member;
  }

  async destroy(): Promise<void> {
    // Workers first: their clients would otherwise retry a control plane already gone.
    for (const m of [...this.members].reverse()) await m.running.stop();
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}
