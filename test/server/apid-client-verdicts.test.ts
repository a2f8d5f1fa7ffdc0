import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { DateTime } from 'luxon';
import { issueClientCertificate } from '../../src/config/index.js';
import { ManualClock } from '../../src/runtime/manual-clock.js';
import { ClientVerdicts } from '../../src/server/apid/client-verdicts.js';
import type { AcceptedCASource, PeerSocket } from '../../src/server/apid/client-verdicts.js';
import { NO_CLIENT_CERTIFICATE } from '../../src/server/apid/client-verification.js';
import { fixtureBundle } from '../controllers/node-harness.js';

const bundle = fixtureBundle();
const osCA = new X509Certificate(bundle.certs.os.crt);

/** The accepted CAs as a rotation changes them: a new set bumps the generation, as AcceptedCAs does. */
class CAs implements AcceptedCASource {
  generation = 1;
  certs = [osCA];
  replace(certs: X509Certificate[]): void {
    this.certs = certs;
    this.generation++;
  }
  async current() {
    return { certs: this.certs, pems: this.certs.map((c) => c.toString()), generation: this.generation };
  }
}

/** A connection presenting `crt` (or nothing), counting how often its certificate is read. */
function connection(crt?: string): PeerSocket & { reads: number } {
  const peer = crt ? new X509Certificate(crt) : undefined;
  const socket = {
    reads: 0,
    getPeerX509Certificate: () => {
      socket.reads++;
      return peer;
    },
  };
  return socket;
}

describe("apid's client verdicts: a connection judged once, again when its trust may have changed", () => {
  const start = DateTime.utc().startOf('second');
  let clock: ManualClock;
  let cas: CAs;
  let verdicts: ClientVerdicts;
  let client: { crt: string };
  beforeEach(async () => {
    clock = new ManualClock(start);
    cas = new CAs();
    verdicts = new ClientVerdicts(cas, clock);
    client = await issueClientCertificate(bundle.certs.os, { roles: ['os:reader'], validityHours: 1, now: start.toJSDate() });
  });

  it('judges a kept-alive connection once while its CAs and certificate stay valid', async () => {
    const socket = connection(client.crt);
    const first = await verdicts.of(socket);
    const second = await verdicts.of(socket);
    expect(first.ok && first.identity.roles).to.deep.equal(['os:reader']);
    expect(second).to.equal(first);
    expect(socket.reads).to.equal(1);
  });

  it('judges it again once the accepted CAs change: a connection opened under a CA a rotation dropped is refused', async () => {
    const socket = connection(client.crt);
    expect((await verdicts.of(socket)).ok).to.equal(true);
    cas.replace([]);
    const after = await verdicts.of(socket);
    expect(after.ok).to.equal(false);
    expect(socket.reads).to.equal(2);
  });

  it('judges it again once its certificate has expired, and refuses it', async () => {
    const socket = connection(client.crt);
    expect((await verdicts.of(socket)).ok).to.equal(true);
    await clock.advance({ hours: 2 });
    const after = await verdicts.of(socket);
    expect(after.ok ? 'accepted' : after.message).to.match(/expired/);
    expect(socket.reads).to.equal(2);
  });

  it('keeps a refusal for the connection: no certificate is refused once, without reading it again', async () => {
    const socket = connection();
    const first = await verdicts.of(socket);
    expect(first.ok ? 'accepted' : first.message).to.equal(NO_CLIENT_CERTIFICATE);
    await verdicts.of(socket);
    expect(socket.reads).to.equal(1);
  });
});
