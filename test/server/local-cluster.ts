// Nodes in this process for rotation tests: real SQLite files, real apid and trustd on 127.0.0.1 port 0, the system
// clock; the first node added is the control plane whose trustd the workers use.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaKeys } from '../../src/config/ca-keys.js';
import { generateMachineConfig } from '../../src/config/index.js';
import type { MachineType, SecretsBundle } from '../../src/config/index.js';
import { MACHINE_CONFIG_ID, MachineConfigs } from '../../src/resources/index.js';
import { startApid } from '../../src/server/apid/index.js';
import type { Apid } from '../../src/server/apid/index.js';
import { openNode } from '../../src/server/node.js';
import type { Node } from '../../src/server/node.js';
import { startTrustdClient } from '../../src/server/trustd-client/index.js';
import type { TrustdClient } from '../../src/server/trustd-client/index.js';
import { startTrustd } from '../../src/server/trustd/index.js';
import type { Trustd } from '../../src/server/trustd/index.js';

export interface Member {
  node: Node;
  apid: Apid;
  address: string;
}

/** Control planes and workers in this process (real SQLite files, real apid/trustd on 127.0.0.1 port 0). */
export class LocalCluster {
  readonly dirs: string[] = [];
  readonly members: Member[] = [];
  readonly trustds: Trustd[] = [];
  readonly clients: TrustdClient[] = [];

  constructor(readonly bundle: SecretsBundle) {}

  /** `caKeys`: where this node's CAs sign (a PKCS#11 token); default their PEM keys in memory. */
  async add(type: MachineType, hostname: string, caKeys?: CaKeys): Promise<Member> {
    const keys = caKeys ? { caKeys } : {};
    const dir = mkdtempSync(join(tmpdir(), `trustplane-rotation-${type}-`));
    this.dirs.push(dir);
    const node = await openNode({ stateDir: dir, addresses: { addresses: ['127.0.0.1'], hostname }, ...keys });
    const config = generateMachineConfig(this.bundle, { type, clusterName: 'demo', endpoint: 'https://127.0.0.1:6443' });
    await node.state.create({ metadata: { namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID }, spec: { yaml: config.toYaml() } });
    await node.runtime.start();
    if (type !== 'worker') this.trustds.push(await startTrustd({ state: node.state, host: '127.0.0.1', port: 0, ...keys }));
    else this.clients.push(startTrustdClient({ state: node.state, endpoints: [`127.0.0.1:${this.trustds[0].port}`] }));
    const apid = await startApid({ state: node.state, registry: node.registry, host: '127.0.0.1', port: 0, ...keys });
    await apid.ready;
    const member = { node, apid, address: `127.0.0.1:${apid.port}` };
    this.members.push(member);
    return member;
  }

  async destroy(): Promise<void> {
    for (const c of this.clients) await c.close();
    for (const t of this.trustds) await t.close();
    for (const m of this.members) {
      await m.apid.close();
      await m.node.stop();
    }
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}
