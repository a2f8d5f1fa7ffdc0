import { expect } from 'chai';
import { DateTime } from 'luxon';
import { createCA, encodePrivateKeyPem } from '../../src/pki/index.js';
import { CARotationSecrets, CARotations, ROTATION_DRIVER_OWNER } from '../../src/resources/index.js';
import type { CARotationSpec } from '../../src/resources/index.js';
import { startRotationDriver } from '../../src/server/rotation/index.js';
import type { RotationDriver } from '../../src/server/rotation/index.js';
import { NodeHarness, fixtureBundle } from '../controllers/node-harness.js';
import { freePort } from '../support/free-port.js';

/**
 * A rotation step that keeps failing (here: a node nobody answers at) is retried after the driver's backoff, on its
 * clock. The driver notes each failure on the CARotation it follows, and that write must not wake it: it did, so a new
 * failure was retried at once, and on a moving clock (each note carries its time, so every note is a change) without
 * end, as fast as the failing call allowed; an etcd rotation waiting for its members' restarts spun like that.
 */
describe('the CA rotation driver after a failed step', function () {
  this.timeout(30_000);
  let harness: NodeHarness;
  let driver: RotationDriver | undefined;
  before(async () => {
    harness = await NodeHarness.start({ bundle: fixtureBundle(), start: DateTime.utc() });
  });
  after(async () => {
    await driver?.close();
    await harness?.destroy();
  });

  it('notes the failure and waits for its backoff on its clock before trying again', async () => {
    const { state } = harness.node;
    const now = harness.clock.now();
    const made = await createCA('etcd', { algorithm: 'ecdsa', now: now.toJSDate() });
    const nobody = `127.0.0.1:${await freePort()}`;
    const spec: CARotationSpec = {
      ca: 'etcd',
      phase: 'Staged',
      nodes: [{ address: nobody, role: 'controlplane', phase: 'Staged' }],
      newCA: { subject: 'O=etcd', fingerprint: made.cert.fingerprint256, notAfter: new Date(made.cert.validTo).toISOString() },
      oldCA: { subject: 'O=etcd', fingerprint: 'AA:BB' },
      started: now.toISO()!,
      updated: now.toISO()!,
    };
    const failures: string[] = [];
    const waiting: { count: number; resolve: () => void }[] = [];
    const failed = (count: number) => new Promise<void>((resolve) => waiting.push({ count, resolve }));
    const first = failed(1);
    const third = failed(3);
    driver = startRotationDriver({
      state,
      clock: harness.clock,
      logger: (message, fields) => {
        if (message !== 'rotation step failed') return;
        failures.push(String(fields?.error));
        for (const w of waiting) if (w.count === failures.length) w.resolve();
      },
    });
    await state.create({ metadata: { namespace: CARotationSecrets.namespace, type: CARotationSecrets.type, id: 'etcd' }, spec: { oldCA: fixtureBundle().certs.etcd, newCA: { crt: made.certPem, key: encodePrivateKeyPem(made.key) } } }, { owner: ROTATION_DRIVER_OWNER });
    await state.create({ metadata: { namespace: CARotations.namespace, type: CARotations.type, id: 'etcd' }, spec }, { owner: ROTATION_DRIVER_OWNER });
    await first;
    // Settles with the retry left to the clock; before the fix it never settled, failing again at once (third resolves).
    await Promise.race([driver.settled(), third]);
    expect(failures).to.have.length(1);
    expect(failures[0]).to.match(new RegExp(`connectivity check after Staged: ${nobody} refused the admin client certificate: connect ECONNREFUSED`));
    const noted = (await state.get<CARotationSpec>({ namespace: CARotations.namespace, type: CARotations.type, id: 'etcd' })).spec;
    expect(noted.lastError).to.equal(failures[0]);
    expect(noted.phase).to.equal('Staged');
    // The first retry is due after about 500 ms (with 20% jitter) on the driver's clock, and comes when that time has passed.
    const due = harness.clock.nextTimer()!.diff(harness.clock.now()).toMillis();
    expect(due).to.be.within(400, 600);
    const second = failed(2);
    await harness.clock.advance({ milliseconds: 600 });
    await second;
    await Promise.race([driver.settled(), third]);
    expect(failures).to.have.length(2);
  });
});
