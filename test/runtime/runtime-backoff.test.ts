import { expect } from 'chai';
import { DateTime } from 'luxon';
import { backoffDelay, defaultBackoff, nominalDelay } from '../../src/runtime/backoff.js';
import { idle, input, type Controller } from '../../src/runtime/controller.js';
import { ControllerStatuses, type ControllerStatus } from '../../src/runtime/controller-status.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { START, Sources, harness, type Harness } from './runtime-harness.js';

/** Fails (throws) `failures` times, then succeeds. */
function flaky(name: string, failures: number, how: 'reject' | 'throw' | 'string' = 'reject'): Controller & { calls: number } {
  const c = {
    name,
    inputs: [input(Sources)],
    outputs: [],
    calls: 0,
    reconcile() {
      c.calls++;
      if (c.calls <= failures) {
        const err = new Error(`attempt ${c.calls} failed`);
        if (how === 'throw') throw err;
        return Promise.reject(how === 'string' ? `attempt ${c.calls} failed` : err);
      }
      return Promise.resolve(idle(`ok after ${c.calls} calls`));
    },
  };
  return c;
}

const millis = (iso: string | undefined) => DateTime.fromISO(iso!).toMillis();

describe('backoff schedule', () => {
  it('grows from 500 ms by x1.5 and is capped at 60 s', () => {
    const nominal = [1, 2, 3, 4, 5].map((n) => nominalDelay(n));
    expect(nominal).to.deep.equal([500, 750, 1125, 1687.5, 2531.25]);
    expect(nominalDelay(11)).to.be.closeTo(28_832.5, 0.1);
    expect(nominalDelay(12)).to.be.closeTo(43_248.8, 0.1);
    expect(nominalDelay(13)).to.equal(60_000);
    expect(nominalDelay(100)).to.equal(60_000);
  });

  it('spreads each delay within +/-20% of the nominal and never beyond 60 s', () => {
    for (let n = 1; n <= 30; n++) {
      const nominal = nominalDelay(n);
      const low = nominal * 0.8;
      const high = Math.min(nominal * 1.2, defaultBackoff.maxMs);
      expect(backoffDelay(n, () => 0), `failure ${n} low`).to.equal(Math.round(low));
      expect(backoffDelay(n, () => 0.999999), `failure ${n} high`).to.be.closeTo(high, 1);
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(n);
        expect(d).to.be.within(Math.floor(low), Math.ceil(high));
        expect(d).to.be.at.most(60_000);
      }
    }
  });

  it('refuses a failure count below 1', () => {
    expect(() => nominalDelay(0)).to.throw(RangeError, 'failures must be an integer >= 1, got 0');
  });
});

describe('Runtime: failing controllers', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('retries a rejecting reconcile at 500 ms, 750 ms, 1125 ms ... and resets the schedule after a success', async () => {
    const c = flaky('Flaky', 4);
    h = await harness([c], { random: () => 0.5 });
    await h.runtime.start();
    await h.runtime.settled();
    expect(c.calls).to.equal(1);

    // Each retry comes exactly at its nominal time (random 0.5 = no jitter), and not a millisecond earlier.
    let at: DateTime = START;
    for (const delay of [500, 750, 1125, 1687.5]) {
      const status = h.runtime.status()[0];
      expect(status.state).to.equal('backoff');
      const wait = Math.round(delay);
      expect(millis(status.nextRetry) - at.toMillis()).to.equal(wait);
      const calls = c.calls;
      await h.clock.advance(wait - 1);
      expect(c.calls, `no retry before ${wait} ms`).to.equal(calls);
      await h.clock.advance(1);
      expect(c.calls, `retry at ${wait} ms`).to.equal(calls + 1);
      at = h.clock.now();
    }
    const ok = h.runtime.status()[0];
    expect(ok).to.include({ state: 'idle', failures: 0, message: 'ok after 5 calls', lastError: 'attempt 4 failed' });
    expect(ok.nextRetry).to.equal(undefined);
    expect(ok.lastSuccess).to.equal(h.clock.now().toISO());

    // A new failure starts over at 500 ms.
    c.calls = 0;
    await h.setSource('x', 1);
    await h.runtime.settled();
    const again = h.runtime.status()[0];
    expect(again).to.include({ state: 'backoff', failures: 1, lastError: 'attempt 1 failed' });
    expect(millis(again.nextRetry) - h.clock.now().toMillis()).to.equal(500);
  });

  it('treats a synchronous throw and a rejected non-Error like a rejection', async () => {
    const thrower = flaky('Thrower', 2, 'throw');
    const stringer = flaky('Stringer', 2, 'string');
    h = await harness([thrower, stringer], { random: () => 0.5 });
    await h.runtime.start();
    await h.runtime.settled();
    expect(h.runtime.status().map((s) => [s.name, s.state, s.failures, s.lastError])).to.deep.equal([
      ['Thrower', 'backoff', 1, 'attempt 1 failed'],
      ['Stringer', 'backoff', 1, 'attempt 1 failed'],
    ]);
    await h.clock.advance({ seconds: 2 });
    expect(thrower.calls).to.equal(3);
    expect(stringer.calls).to.equal(3);
    expect(h.runtime.status().every((s) => s.state === 'idle' && s.failures === 0)).to.equal(true);
  });

  it('keeps jittered retries within bounds and reaches the 60 s cap without exceeding it', async () => {
    const c = flaky('Hopeless', Infinity);
    h = await harness([c]);
    await h.runtime.start();
    await h.runtime.settled();
    const delays: number[] = [];
    for (let n = 1; n <= 20; n++) {
      const status = h.runtime.status()[0];
      expect(status.failures).to.equal(n);
      const delay = millis(status.nextRetry) - h.clock.now().toMillis();
      delays.push(delay);
      const nominal = nominalDelay(n);
      expect(delay, `retry ${n}`).to.be.within(Math.floor(nominal * 0.8), Math.min(Math.ceil(nominal * 1.2), 60_000));
      await h.clock.set(DateTime.fromISO(status.nextRetry!));
      expect(c.calls).to.equal(n + 1);
    }
    expect(Math.max(...delays)).to.be.at.most(60_000);
    expect(delays.slice(-5).every((d) => d >= 48_000)).to.equal(true);
  });

  it('waits out the backoff even when inputs change, then reconciles once with the latest state', async () => {
    const c = flaky('Patient', 1);
    h = await harness([c], { random: () => 0.5 });
    await h.runtime.start();
    await h.runtime.settled();
    for (let i = 0; i < 5; i++) await h.setSource(`s${i}`, i);
    await h.runtime.settled();
    expect(c.calls).to.equal(1);
    await h.clock.advance(500);
    expect(c.calls).to.equal(2);
    expect(h.runtime.status()[0].state).to.equal('idle');
  });

  it('writes failures, last error, next retry and last success to a ControllerStatuses resource owned by the runtime', async () => {
    const c = flaky('Flaky', 1);
    h = await harness([c], { random: () => 0.5 });
    await h.runtime.start();
    await h.runtime.settled();
    const pointer = { namespace: 'runtime', type: ControllerStatuses.type, id: 'Flaky' };
    const failing = await h.state.get<ControllerStatus>(pointer);
    expect(failing.metadata.owner).to.equal('runtime');
    expect(failing.spec).to.deep.include({ name: 'Flaky', state: 'backoff', failures: 1, lastError: 'attempt 1 failed' });
    expect(failing.spec.nextRetry).to.equal(START.plus({ milliseconds: 500 }).toISO());
    expect(failing.spec.lastSuccess).to.equal(undefined);

    await h.clock.advance(500);
    const recovered = await h.state.get<ControllerStatus>(pointer);
    expect(recovered.spec).to.deep.include({ state: 'idle', failures: 0, lastError: 'attempt 1 failed', message: 'ok after 2 calls' });
    expect(recovered.spec.lastSuccess).to.equal(START.plus({ milliseconds: 500 }).toISO());
    expect(recovered.spec.nextRetry).to.equal(undefined);
    expect(h.registry.resolve('controllerstatus')).to.equal(ControllerStatuses);
  });

  it('does not rewrite the status resource when a reconcile changes nothing a reader cares about', async () => {
    const steady: Controller = { name: 'Steady', inputs: [input(Sources)], outputs: [], reconcile: async () => idle('steady') };
    h = await harness([steady]);
    await h.runtime.start();
    await h.runtime.settled();
    const pointer = { namespace: 'runtime', type: ControllerStatuses.type, id: 'Steady' };
    const before = await h.state.get(pointer);
    for (let i = 0; i < 3; i++) {
      await h.setSource('x', i);
      await h.runtime.settled();
    }
    expect(h.runtime.status()[0].reconciles).to.equal(4);
    expect((await h.state.get(pointer)).metadata.version).to.equal(before.metadata.version);
  });

  it('does not rewrite a status on start when the run ends as the last one did, and does when it ends otherwise', async () => {
    let says = 'steady';
    const steady: Controller = { name: 'Steady', inputs: [input(Sources)], outputs: [], reconcile: async () => idle(says) };
    h = await harness([steady]);
    await h.runtime.start();
    await h.runtime.settled();
    await h.runtime.stop();
    const pointer = { namespace: 'runtime', type: ControllerStatuses.type, id: 'Steady' };
    const first = await h.state.get<ControllerStatus>(pointer);
    const restart = async () => {
      await h.clock.advance(60_000); // a later start: its lastReconcile differs, which alone is not worth a write
      const next = new Runtime({ state: h.state, registry: h.registry, clock: h.clock });
      next.register(steady);
      await next.start();
      await next.settled();
      await next.stop();
      return h.state.get<ControllerStatus>(pointer);
    };
    expect((await restart()).metadata.version, 'rewritten with nothing changed').to.equal(first.metadata.version);
    says = 'changed';
    const changed = await restart();
    expect(changed.metadata.version).to.be.greaterThan(first.metadata.version);
    expect(changed.spec).to.deep.include({ state: 'idle', failures: 0, message: 'changed' });
  });

  it('removes at start the status of a controller it no longer runs (renamed or removed), and keeps the others', async () => {
    const c = flaky('Flaky', 1);
    h = await harness([c], { random: () => 0.5 });
    await h.runtime.start();
    await h.runtime.settled();
    const at = (id: string) => ({ namespace: 'runtime', type: ControllerStatuses.type, id });
    expect((await h.state.get<ControllerStatus>(at('Flaky'))).spec.state).to.equal('backoff');
    await h.runtime.stop();

    const steady: Controller = { name: 'Steady', inputs: [input(Sources)], outputs: [], reconcile: async () => idle('steady') };
    const next = new Runtime({ state: h.state, registry: h.registry, clock: h.clock });
    next.register(steady);
    await next.start();
    await next.settled();
    expect(await h.state.find(at('Flaky'))).to.equal(undefined);
    expect((await h.state.get<ControllerStatus>(at('Steady'))).spec.state).to.equal('idle');
    await next.stop();
  });
});
