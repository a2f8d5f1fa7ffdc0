import { expect } from 'chai';
import { ApidHarness } from './apid-harness.js';
import type { Credential } from './apid-harness.js';
import { holdWatch } from './apid-stream.js';
import type { HeldWatch } from './apid-stream.js';

/** Lets the event loop turn until `done` holds (the server sees a closed stream on a later turn); fails after `turns`. */
async function untilTrue(done: () => boolean, what: string, turns = 10_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (done()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never happened: ${what}`);
}

describe('apid watch limits (per client certificate and in total)', function () {
  let h: ApidHarness;
  const held: HeldWatch[] = [];

  before(async () => {
    h = await ApidHarness.start({ apid: { watchLimits: { perClient: 3, total: 5 } } });
  });
  after(async () => {
    for (const w of held) w.close();
    await h?.close();
  });

  const open = async (cred: Credential) => {
    const w = await holdWatch(h.apid.port, h.caPem, cred, '/v1/watch/cs');
    held.push(w);
    return w;
  };

  it('refuses a client its watch beyond the per-client limit with a 429, while others and version still answer', async () => {
    const reader = await h.role('os:reader');
    for (let i = 0; i < 3; i++) expect((await open(reader)).status).to.equal(200);
    const refused = await open(reader);
    expect(refused.status).to.equal(429);
    expect(JSON.parse(refused.body)).to.deep.equal({
      error: 'too many watches: client "CN=talosctl-client,O=os:reader" has 3 open, the most one client may hold; end some (each get -w holds one) and retry',
    });
    expect(h.apid.openWatches()).to.equal(3);
    const version = await h.request(reader, 'GET', '/v1/version');
    expect(version.status).to.equal(200);

    // Another certificate with the same roles is another client.
    const other = await h.role('os:reader');
    expect((await open(other)).status).to.equal(200);
    expect(h.apid.openWatches()).to.equal(4);
  });

  it('refuses any client once the node holds its total, and takes watches again once some end', async () => {
    const admin = await h.role('os:admin');
    expect((await open(admin)).status).to.equal(200);
    const third = await h.role('os:reader');
    const refused = await open(third);
    expect(refused.status).to.equal(429);
    expect(JSON.parse(refused.body)).to.deep.equal({ error: 'too many watches on this node: 5 open, the most it serves; retry later' });
    expect(h.apid.openWatches()).to.equal(5);

    held[0].close();
    await untilTrue(() => h.apid.openWatches() === 4, 'the closed watch gives its slot back');
    expect((await open(third)).status).to.equal(200);
    expect(h.apid.openWatches()).to.equal(5);
  });
});
