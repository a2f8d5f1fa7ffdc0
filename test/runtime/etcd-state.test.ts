import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { openEtcdState } from '../../src/runtime/etcd/index.js';
import type { EtcdState, EtcdStateOptions } from '../../src/runtime/etcd/index.js';
import { stateConformance } from './state-conformance.js';
import { startEtcd } from '../support/etcd-server.js';
import type { EtcdServer } from '../support/etcd-server.js';
import { testRegistry } from '../fixtures-runtime/definitions.js';

let server: EtcdServer;
let stores = 0;

before(async function () {
  this.timeout(30_000);
  server = await startEtcd();
});

after(async () => {
  await server?.stop();
});

const freshUrl = () => `etcd://${server.endpoint}/conformance-${process.pid}-${++stores}`;

stateConformance('etcd', async (registry) => {
  const url = freshUrl();
  const key = randomBytes(32);
  const options: EtcdStateOptions = { url, registry, encryptionKey: key };
  let current = await openEtcdState(options);
  const peers: EtcdState[] = [];
  return {
    state: current,
    reopen: async () => {
      await current.close();
      current = await openEtcdState(options);
      return current;
    },
    peer: async () => {
      const peer = await openEtcdState(options);
      peers.push(peer);
      return peer;
    },
    cleanup: async () => {
      for (const p of peers) await p.close();
      await current.close();
    },
  };
});

describe('EtcdState', () => {
  it('opens', async () => {
    const s = await openEtcdState({ url: freshUrl(), registry: testRegistry(), encryptionKey: randomBytes(32) });
    expect(await s.revision()).to.equal(0);
    await s.close();
  });
});
