import { expect } from 'chai';
import { DateTime } from 'luxon';
import { ManualClock } from '../../src/runtime/clock.js';
import { CoalescingLoop } from '../../src/runtime/coalescing-loop.js';

const T0 = DateTime.fromISO('2030-06-01T12:00:00.000Z', { zone: 'utc' });

/** A pass that stays open until released, so a test can kick while it runs. */
function gatedPass(next: () => DateTime | undefined = () => undefined) {
  let release: () => void = () => undefined;
  let passes = 0;
  const pass = async () => {
    passes++;
    await new Promise<void>((resolve) => (release = resolve));
    return next();
  };
  return { pass, release: () => release(), count: () => passes };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('CoalescingLoop', () => {
  it('turns any number of kicks during a pass into one more pass after it', async () => {
    const gate = gatedPass();
    const loop = new CoalescingLoop(new ManualClock(T0), gate.pass);
    loop.kick();
    await tick();
    for (let i = 0; i < 50; i++) loop.kick();
    gate.release();
    await tick();
    expect(gate.count()).to.equal(2);
    gate.release();
    await loop.settled();
    expect(gate.count()).to.equal(2);
  });

  it('runs again at the time a pass asks for, and only the latest time counts', async () => {
    const clock = new ManualClock(T0);
    const asked = [T0.plus({ minutes: 10 }), T0.plus({ minutes: 5 }), undefined];
    let passes = 0;
    const loop = new CoalescingLoop(clock, async () => asked[passes++]);
    loop.kick();
    await loop.settled();
    loop.kick(); // asks for +5 min, replacing +10 min
    await loop.settled();
    await clock.advance({ minutes: 5 });
    await loop.settled();
    expect(passes).to.equal(3);
    await clock.advance({ minutes: 10 });
    expect(passes).to.equal(3);
  });

  it('starts no pass once closed, and close waits for the running one', async () => {
    const clock = new ManualClock(T0);
    const gate = gatedPass(() => T0.plus({ minutes: 1 }));
    const loop = new CoalescingLoop(clock, gate.pass);
    loop.kick();
    await tick();
    let closed = false;
    const closing = loop.close().then(() => (closed = true));
    await tick();
    expect(closed).to.equal(false);
    expect(loop.closed).to.equal(true);
    gate.release();
    await closing;
    loop.kick();
    await clock.advance({ minutes: 2 });
    expect(gate.count()).to.equal(1);
  });
});
