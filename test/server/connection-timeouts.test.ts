import net from 'node:net';
import tls from 'node:tls';
import { expect } from 'chai';
import { DateTime } from 'luxon';
import { connectionTimeouts } from '../../src/server/connection-timeouts.js';
import { startTrustd } from '../../src/server/trustd/index.js';
import { NodeHarness, fixtureBundle } from '../controllers/node-harness.js';
import { ApidHarness } from './apid-harness.js';
import { holdWatch } from './apid-stream.js';

/** Resolves when the server closes the socket, with what the client had received by then. */
function closed(socket: net.Socket): Promise<string> {
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString()));
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.on('close', () => resolve(received)));
}

function tlsConnect(port: number, caPem: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: caPem }, () => resolve(socket));
    socket.on('error', reject);
  });
}

describe('connection timeouts (slow and idle clients are closed, quiet watches are not)', function () {
  this.timeout(20_000);
  const timeouts = { handshakeMs: 300, idleMs: 300, headersMs: 600, requestMs: 1_000, keepAliveMs: 300 };
  let h: ApidHarness;

  before(async () => {
    h = await ApidHarness.start({ apid: { timeouts } });
  });
  after(async () => h?.close());

  it('closes a connection that never starts the TLS handshake', async () => {
    const socket = net.connect(h.apid.port, '127.0.0.1');
    expect(await closed(socket)).to.equal('');
  });

  it('closes a TLS connection that never sends a request, and a quiet watch opened before it stays open', async () => {
    const reader = await h.role('os:reader');
    const watch = await holdWatch(h.apid.port, h.caPem, reader, '/v1/watch/cs');
    expect(watch.status).to.equal(200);
    const idle = await tlsConnect(h.apid.port, h.caPem);
    expect(await closed(idle)).to.equal('');
    // The watch has been quiet for longer than the idle limit (the idle connection was opened after it).
    expect(h.apid.openWatches()).to.equal(1);
    watch.close();
  });

  it('closes a slowloris connection that dribbles its headers for ever', async () => {
    const socket = await tlsConnect(h.apid.port, h.caPem);
    const done = closed(socket);
    socket.write('GET /v1/version HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // One header byte at a time, faster than the idle limit: only the headers deadline can end it.
    const drip = setInterval(() => socket.write('X'), 50);
    const received = await done;
    clearInterval(drip);
    // Node answers 408 when it can, else just closes; never a 200.
    expect(received === '' || received.startsWith('HTTP/1.1 408 Request Timeout'), received).to.equal(true);
  });

  it('closes an idle connection of trustd too (its certificate is from the same fixture OS CA)', async () => {
    const node = await NodeHarness.start({ bundle: fixtureBundle(), start: DateTime.utc(), addresses: ['127.0.0.1'] });
    const trustd = await startTrustd({ state: node.node.state, host: '127.0.0.1', port: 0, clock: node.clock, timeouts });
    try {
      const idle = await tlsConnect(trustd.port, h.caPem);
      expect(await closed(idle)).to.equal('');
    } finally {
      await trustd.close();
      await node.destroy();
    }
  });

  it('refuses limits that would not protect anything, naming the limit', () => {
    expect(() => connectionTimeouts({ idleMs: 0 })).to.throw(RangeError, 'connection timeout idleMs: expected a positive number of milliseconds, got 0');
    expect(() => connectionTimeouts({ headersMs: 5_000, requestMs: 1_000 })).to.throw(RangeError, 'headersMs (5000) must not exceed requestMs (1000)');
    expect(connectionTimeouts({ idleMs: 1 }).keepAliveMs).to.equal(5_000);
  });
});
