import { expect } from 'chai';
import { DateTime } from 'luxon';
import { ManualClock, systemClock } from '../../src/runtime/clock.js';

const T0 = DateTime.fromISO('2030-06-01T12:00:00.000Z', { zone: 'utc' });

describe('ManualClock', () => {
  it('fires due timers in time order, ties in scheduling order, with now() at each timer\'s time', async () => {
    const clock = new ManualClock(T0);
    const fired: string[] = [];
    const at = (minutes: number, name: string) =>
      clock.schedule(T0.plus({ minutes }), () => fired.push(`${name}@${clock.now().diff(T0, 'minutes').minutes}`));
    at(30, 'c');
    at(10, 'a');
    at(20, 'b1');
    at(20, 'b2');
    at(90, 'late');
    await clock.advance({ hours: 1 });
    expect(fired).to.deep.equal(['a@10', 'b1@20', 'b2@20', 'c@30']);
    expect(clock.now().toISO()).to.equal(T0.plus({ hours: 1 }).toISO());
    expect(clock.pendingTimers).to.equal(1);
  });

  it('does not fire a cancelled timer', async () => {
    const clock = new ManualClock(T0);
    let fired = false;
    const cancel = clock.schedule(T0.plus({ seconds: 1 }), () => (fired = true));
    cancel();
    await clock.advance({ seconds: 2 });
    expect(fired).to.equal(false);
    expect(clock.pendingTimers).to.equal(0);
  });

  it('fires, within the same advance, timers that fired callbacks schedule inside the window', async () => {
    const clock = new ManualClock(T0);
    const fired: number[] = [];
    const every10 = () => {
      fired.push(clock.now().diff(T0, 'minutes').minutes);
      clock.schedule(clock.now().plus({ minutes: 10 }), every10);
    };
    clock.schedule(T0.plus({ minutes: 10 }), every10);
    await clock.advance({ minutes: 45 });
    expect(fired).to.deep.equal([10, 20, 30, 40]);
  });

  it('resolves advance only after the async work the callbacks started has run', async () => {
    const clock = new ManualClock(T0);
    const log: string[] = [];
    clock.schedule(T0.plus({ seconds: 1 }), () => {
      void (async () => {
        for (let i = 0; i < 3; i++) await Promise.resolve();
        log.push('microtasks done');
      })();
    });
    // Tracked work that needs several event-loop turns, like a runtime settling its reconciles.
    let pending = 0;
    clock.schedule(T0.plus({ seconds: 2 }), () => {
      pending = 3;
    });
    const untrack = clock.trackWork(async () => {
      while (pending > 0) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        pending--;
        if (pending === 0) log.push(`tracked work done at ${clock.now().diff(T0, 'seconds').seconds}s`);
      }
    });
    await clock.advance({ seconds: 5 });
    expect(log).to.deep.equal(['microtasks done', 'tracked work done at 2s']);
    untrack();
  });

  it('runs advances one after another, each from where the previous left the clock', async () => {
    const clock = new ManualClock(T0);
    await Promise.all([clock.advance({ minutes: 1 }), clock.advance({ minutes: 2 }), clock.advance({ minutes: 3 })]);
    expect(clock.now().toISO()).to.equal(T0.plus({ minutes: 6 }).toISO());
  });

  it('moves back on set() without firing anything, and fires again once the time is reached', async () => {
    const clock = new ManualClock(T0);
    let fired = 0;
    clock.schedule(T0.plus({ hours: 1 }), () => fired++);
    await clock.set(T0.minus({ days: 1 }));
    expect(clock.now().toISO()).to.equal(T0.minus({ days: 1 }).toISO());
    expect(fired).to.equal(0);
    await clock.set(T0.plus({ hours: 2 }));
    expect(fired).to.equal(1);
  });

  it('fires a timer scheduled in the past on the next advance, without moving time back', async () => {
    const clock = new ManualClock(T0);
    let firedAt: string | undefined;
    clock.schedule(T0.minus({ hours: 1 }), () => (firedAt = clock.now().toISO()!));
    await clock.advance(0);
    expect(firedAt).to.equal(T0.toISO());
  });

  it('jumps from timer to timer with advanceToNext, stopping at a limit', async () => {
    const clock = new ManualClock(T0);
    for (const days of [3, 1, 400]) clock.schedule(T0.plus({ days }), () => undefined);
    expect((await clock.advanceToNext())?.toISO()).to.equal(T0.plus({ days: 1 }).toISO());
    expect((await clock.advanceToNext())?.toISO()).to.equal(T0.plus({ days: 3 }).toISO());
    expect(await clock.advanceToNext(T0.plus({ days: 365 }))).to.equal(undefined);
    expect(clock.now().toISO()).to.equal(T0.plus({ days: 3 }).toISO());
    expect(clock.nextTimer()?.toISO()).to.equal(T0.plus({ days: 400 }).toISO());
  });

  it('steps calendar units: ten years from 2030 is 3,653 days', async () => {
    const clock = new ManualClock(T0);
    await clock.advance({ years: 10 });
    expect(clock.now().diff(T0, 'days').days).to.equal(3653);
  });

  it('reports a callback that throws after firing the rest', async () => {
    const clock = new ManualClock(T0);
    let after = false;
    clock.schedule(T0.plus({ seconds: 1 }), () => {
      throw new Error('boom');
    });
    clock.schedule(T0.plus({ seconds: 2 }), () => (after = true));
    let error: unknown;
    try {
      await clock.advance({ seconds: 3 });
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).to.equal('boom');
    expect(after).to.equal(true);
    expect(clock.now().toISO()).to.equal(T0.plus({ seconds: 3 }).toISO());
  });

  it('refuses a negative duration and invalid times, naming the fix', () => {
    const clock = new ManualClock(T0);
    expect(() => clock.advance({ minutes: -1 })).to.throw(RangeError, 'ManualClock.advance: duration must not be negative, got PT-1M; use set() to move the clock back');
    expect(() => clock.set(DateTime.fromISO('not a time'))).to.throw(RangeError, /ManualClock.set: invalid time/);
    expect(() => new ManualClock(DateTime.fromISO('2030-13-01'))).to.throw(RangeError, /ManualClock start: invalid time/);
  });
});

describe('systemClock', () => {
  it('tells the current UTC time', () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now.zoneName).to.equal('UTC');
    expect(now.toMillis()).to.be.within(before, Date.now());
  });

  it('fires a time already past at once, and cancels a future one', () => {
    let fired = 0;
    systemClock.schedule(DateTime.utc().minus({ seconds: 1 }), () => fired++);
    expect(fired).to.equal(1);
    const cancel = systemClock.schedule(DateTime.utc().plus({ years: 1 }), () => fired++);
    cancel();
    expect(fired).to.equal(1);
  });
});
