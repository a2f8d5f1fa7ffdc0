import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMachineConfig } from '../../../src/config/index.js';
import { MACHINE_CONFIG_ID, MachineConfigs } from '../../../src/resources/index.js';
import { startReplica } from '../../../src/server/node-assembly/index.js';
import type { ReplicaStore } from '../../../src/server/node-assembly/index.js';
import { fixtureBundle } from '../../controllers/node-harness.js';
import { rejection } from '../../support/caught.js';
import { startEtcd } from '../../support/etcd-server.js';
import type { EtcdServer } from '../../support/etcd-server.js';

const SERVICES = { listenAddress: '127.0.0.1', apidPort: 0, trustdPort: 0 };

describe('startReplica: a node on a shared etcd store, with the same services as startNode', function () {
  this.timeout(30_000);
  let etcd: EtcdServer;
  let dir: string;
  before(async () => (etcd = await startEtcd()));
  after(async () => etcd?.stop());
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'trustplane-start-replica-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const writeConfig = async ({ state }: ReplicaStore) => {
    const config = generateMachineConfig(fixtureBundle(), { type: 'controlplane', clusterName: 'demo', endpoint: 'https://127.0.0.1:6443' });
    await state.create({ metadata: { namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID }, spec: { yaml: config.toYaml() } });
  };

  it('serves apid and trustd once elected (the leader issues the apid certificate) and gives the lead up on stop()', async () => {
    const lines: string[] = [];
    const replica = await startReplica({
      store: `etcd://${etcd.endpoint}/serving`,
      name: 'cp-1/1',
      node: { stateDir: dir, addresses: { addresses: ['127.0.0.1'], hostname: 'cp-1' }, logger: (message) => lines.push(message) },
      services: SERVICES,
      prepare: writeConfig,
    });
    try {
      await replica.ready;
      expect(replica.ports.trustd).to.be.above(0);
      expect(lines).to.include('leading: controllers running here');
    } finally {
      await replica.stop();
    }
    await replica.leadership;
    expect((await rejection(replica.state.list({ namespace: MachineConfigs.namespace, type: MachineConfigs.type }))).message).to.match(/is closed/);
  });

  it('when the machine config cannot be put in place: starts no service and closes the store', async () => {
    let opened: ReplicaStore | undefined;
    const lines: string[] = [];
    const err = await rejection(
      startReplica({
        store: `etcd://${etcd.endpoint}/refused`,
        name: 'cp-1/2',
        node: { stateDir: dir, addresses: { addresses: ['127.0.0.1'], hostname: 'cp-1' } },
        services: { ...SERVICES, logger: () => (message) => lines.push(message) },
        prepare: async (replica) => {
          opened = replica;
          throw new Error('no machine config');
        },
      }),
    );
    expect(err.message).to.equal('no machine config');
    expect(lines).to.deep.equal([]);
    expect((await rejection(opened!.state.list({ namespace: MachineConfigs.namespace, type: MachineConfigs.type }))).message).to.match(/is closed/);
  });
});
