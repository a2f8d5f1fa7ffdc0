import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMachineConfig } from '../../../src/config/index.js';
import type { MachineType } from '../../../src/config/index.js';
import { MACHINE_CONFIG_ID, MachineConfigs } from '../../../src/resources/index.js';
import { startNode } from '../../../src/server/node-assembly/index.js';
import type { NodeServiceOptions, RunningNode } from '../../../src/server/node-assembly/index.js';
import type { Node } from '../../../src/server/node.js';
import { fixtureBundle } from '../../controllers/node-harness.js';
import { rejection } from '../../support/caught.js';

const bundle = fixtureBundle();
const LOCAL: Omit<NodeServiceOptions, 'caKeys' | 'clock'> = { listenAddress: '127.0.0.1', apidPort: 0, trustdPort: 0, rotationDriver: false };

/** A port held by a plain listener until release(). */
async function takePort(): Promise<{ port: number; release(): Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { port, release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Whether a listener could take the port now (nothing of the node holds it any more). */
async function isFree(port: number): Promise<boolean> {
  const server = net.createServer();
  const free = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (free) await new Promise<void>((resolve) => server.close(() => resolve()));
  return free;
}

describe('startNode: the services a node runs, their order, rollback and stop', function () {
  this.timeout(30_000);
  const dirs: string[] = [];
  const running: RunningNode[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'trustplane-start-node-'));
    dirs.push(d);
    return d;
  };
  const writeConfig = (type: MachineType) => async (node: Node) => {
    const config = generateMachineConfig(bundle, { type, clusterName: 'demo', endpoint: 'https://127.0.0.1:6443' });
    await node.state.create({ metadata: { namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID }, spec: { yaml: config.toYaml() } });
  };
  const listing = (node: Node) => node.state.list({ namespace: MachineConfigs.namespace, type: MachineConfigs.type });

  afterEach(async () => {
    for (const r of running.splice(0).reverse()) await r.stop();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('runs apid and trustd on a control plane and frees both ports and closes the store on stop()', async () => {
    const lines: string[] = [];
    const cp = await startNode({ node: { stateDir: dir(), addresses: { addresses: ['127.0.0.1'], hostname: 'cp-1' } }, services: { ...LOCAL, logger: (service) => (message) => lines.push(`${service}: ${message}`) }, prepare: writeConfig('controlplane') });
    await cp.ready;
    expect(cp.ports.apid).to.be.above(0);
    expect(cp.ports.trustd).to.be.above(0);
    expect(lines).to.include.members(['apid: apid listening', 'trustd: trustd listening']);
    expect(lines.indexOf('apid: apid listening')).to.be.below(lines.indexOf('trustd: trustd listening'));
    await cp.stop();
    expect(await isFree(cp.ports.apid!)).to.equal(true);
    expect(await isFree(cp.ports.trustd!)).to.equal(true);
    expect((await rejection(listing(cp.node))).message).to.match(/is closed/);
  });

  it('runs no trustd on a worker: it joins the control plane through the trustd endpoint it is given', async () => {
    const cp = await startNode({ node: { stateDir: dir(), addresses: { addresses: ['127.0.0.1'], hostname: 'cp-1' } }, services: LOCAL, prepare: writeConfig('controlplane') });
    running.push(cp);
    const worker = await startNode({ node: { stateDir: dir(), addresses: { addresses: ['127.0.0.1'], hostname: 'worker-1' } }, services: { ...LOCAL, trustdEndpoints: [`127.0.0.1:${cp.ports.trustd}`] }, prepare: writeConfig('worker') });
    running.push(worker);
    expect(worker.ports.trustd).to.equal(undefined);
    // apid's certificate on a worker comes from the control plane's trustd: ready means the join worked.
    await worker.ready;
  });

  it('with services: false runs the controllers alone: no port taken', async () => {
    const alone = await startNode({ node: { stateDir: dir(), addresses: { addresses: ['127.0.0.1'], hostname: 'cp-1' } }, services: false, prepare: writeConfig('controlplane') });
    running.push(alone);
    expect(alone.ports).to.deep.equal({});
    await alone.node.runtime.settled();
    expect(alone.node.runtime.stopped).to.equal(false);
  });

  it("when trustd's port is taken: stops the apid it started, closes the store, and says which port and how to free it", async () => {
    const taken = await takePort();
    let opened: Node | undefined;
    const lines: string[] = [];
    try {
      const err = await rejection(
        startNode({
          node: { stateDir: dir(), addresses: { addresses: ['127.0.0.1'], hostname: 'cp-1' } },
          services: { ...LOCAL, trustdPort: taken.port, portFix: 'pick another', logger: () => (message, fields) => lines.push(`${message} ${String(fields?.address)}`) },
          prepare: async (node) => {
            opened = node;
            await writeConfig('controlplane')(node);
          },
        }),
      );
      expect(err.message).to.match(new RegExp(`^trustd cannot listen on 127\\.0\\.0\\.1:${taken.port}: listen EADDRINUSE.*; that port is taken \\(by another process, or by another listener of this node\\): pick another$`));
    } finally {
      await taken.release();
    }
    const apidLine = lines.find((l) => l.startsWith('apid listening '));
    expect(apidLine, lines.join('\n')).to.match(/:\d+$/);
    expect(await isFree(Number(apidLine!.split(':').pop()))).to.equal(true);
    expect(opened).not.to.equal(undefined);
    expect((await rejection(listing(opened!))).message).to.match(/is closed/);
  });

  it('when the machine config cannot be put in place: starts no service and closes the store', async () => {
    let opened: Node | undefined;
    const lines: string[] = [];
    const err = await rejection(
      startNode({
        node: { stateDir: dir(), addresses: { addresses: ['127.0.0.1'], hostname: 'cp-1' } },
        services: { ...LOCAL, logger: () => (message) => lines.push(message) },
        prepare: async (node) => {
          opened = node;
          throw new Error('no machine config');
        },
      }),
    );
    expect(err.message).to.equal('no machine config');
    expect(lines).to.deep.equal([]);
    expect(opened!.runtime.stopped).to.equal(true);
    expect((await rejection(listing(opened!))).message).to.match(/is closed/);
  });
});
