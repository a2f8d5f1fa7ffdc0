// A node on a real SQLite file in a temp dir, driven by a manual clock, with a machine config made from a bundle.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DateTime } from 'luxon';
import { generateMachineConfig, generateSecretsBundle, parseSecretsBundle, validateSecretsBundle } from '../../src/config/index.js';
import type { MachineType, SecretsBundle } from '../../src/config/index.js';
import type { CaKeys } from '../../src/config/ca-keys.js';
import type { CertificateLifetimes } from '../../src/controllers/index.js';
import { MACHINE_CONFIG_ID, MachineConfigs } from '../../src/resources/index.js';
import { ManualClock } from '../../src/runtime/manual-clock.js';
import { openNode } from '../../src/server/node.js';
import type { Node } from '../../src/server/node.js';

export const FIXTURE_SECRETS = resolve(process.cwd(), '../shared/fixtures/talos/secrets/secrets.yaml');

export function fixtureBundle(): SecretsBundle {
  return validateSecretsBundle(parseSecretsBundle(readFileSync(FIXTURE_SECRETS, 'utf8')));
}

export async function freshBundle(now: Date): Promise<SecretsBundle> {
  return generateSecretsBundle({ now });
}

export interface HarnessOptions {
  bundle: SecretsBundle;
  start: DateTime;
  type?: MachineType;
  addresses?: string[];
  hostname?: string;
  certSANs?: string[];
  lifetimes?: Partial<CertificateLifetimes>;
  dir?: string;
  caKeys?: CaKeys;
}

export class NodeHarness {
  readonly clock: ManualClock;

  private constructor(
    readonly dir: string,
    readonly node: Node,
    clock: ManualClock,
    /** Every line the node logged, with its fields as JSON. */
    readonly logs: string[],
  ) {
    this.clock = clock;
  }

  static async start(o: HarnessOptions): Promise<NodeHarness> {
    const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'trustplane-node-'));
    const clock = new ManualClock(o.start);
    const logs: string[] = [];
    const node = await openNode({
      stateDir: dir,
      clock,
      addresses: { addresses: o.addresses ?? ['10.5.0.2'], hostname: o.hostname ?? 'cp-1' },
      lifetimes: o.lifetimes,
      ...(o.caKeys ? { caKeys: o.caKeys } : {}),
      logger: (m, fields) => logs.push(fields ? `${m} ${JSON.stringify(fields)}` : m),
    });
    const harness = new NodeHarness(dir, node, clock, logs);
    const existing = await node.state.find({ namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID });
    if (!existing) {
      const config = generateMachineConfig(o.bundle, {
        type: o.type ?? 'controlplane',
        clusterName: 'demo',
        endpoint: 'https://10.5.0.2:6443',
        additionalSANs: o.certSANs,
      });
      await node.state.create({ metadata: { namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID }, spec: { yaml: config.toYaml() } });
    }
    await node.runtime.start();
    await node.runtime.settled();
    // The audit records of what the controllers issued are committed too, so no test sees them land later.
    await node.audit.flushed();
    return harness;
  }

  async settle(): Promise<void> {
    await this.clock.advance(0);
    await this.node.runtime.settled();
    await this.node.audit.flushed();
  }

  async stop(): Promise<void> {
    await this.node.stop();
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
