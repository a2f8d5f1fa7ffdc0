import { expect } from 'chai';
import type { DateTime } from 'luxon';
import { idle, input, requeueAt, type Controller } from '../../src/runtime/controller.js';
import { START, Sources, harness, type Harness } from './runtime-harness.js';

/** Asks, on its first reconcile, to be woken at `first`; afterwards at whatever `next` says (or never). */
function sleeper(name: string, first: DateTime | undefined, trace: string[], next?: (now: DateTime) => DateTime | undefined): Controller {
  let calls = 0;
  return {
    name,
    inputs: [input(Sources, 'default', name)],
    outputs: [],
    async reconcile(rt) {
      const now = rt.clock.now();
      const ms = now.diff(START).toMillis() % 1000;
      trace.push(`${name}@${now.diff(START).toFormat("d'd'h'h'm'm's's'")}${ms ? `+${ms}ms` : ''}`);
      return requeueAt(calls++ === 0 ? first : next?.(now));
    },
  };
}

describe('Runtime: timers', () => {
  let h: Harness;
  afterEach(() => h.close());

  async function runScenario(): Promise<string[]> {
    const trace: string[] = [];
    h = await harness([
      sleeper('Three', START.plus({ hours: 3 }), trace),
      sleeper('One', START.plus({ hours: 1 }), trace),
      sleeper('Two', START.plus({ hours: 2 }), trace),
      sleeper('AlsoTwo', START.plus({ hours: 2 }), trace),
    ]);
    await h.runtime.start();
    await h.runtime.settled();
    await h.clock.advance({ hours: 5 });
    await h.close();
    return trace;
  }

  it('wakes controllers at the times they asked for, in time order, at exactly that time', async () => {
    const trace = await runScenario();
    expect(trace.slice(4)).to.deep.equal(['One@0d1h0m0s', 'Two@0d2h0m0s', 'AlsoTwo@0d2h0m0s', 'Three@0d3h0m0s']);
    h = await harness([]);
  });

  it('produces the same trace on every run', async () => {
    const first = await runScenario();
    const second = await runScenario();
    expect(second).to.deep.equal(first);
    h = await harness([]);
  });

  it('arms a single clock timer for all controllers, at the earliest requested time', async () => {
    const trace: string[] = [];
    const controllers = Array.from({ length: 50 }, (_, i) => sleeper(`C${i}`, START.plus({ minutes: 50 - i }), trace));
    h = await harness(controllers);
    await h.runtime.start();
    await h.runtime.settled();
    expect(h.clock.pendingTimers).to.equal(1);
    expect(h.clock.nextTimer()?.toISO()).to.equal(START.plus({ minutes: 1 }).toISO());
    await h.clock.advance({ minutes: 25 });
    expect(trace.length).to.equal(50 + 25);
    expect(h.clock.pendingTimers).to.equal(1);
    expect(h.clock.nextTimer()?.toISO()).to.equal(START.plus({ minutes: 26 }).toISO());
  });

  it('does nothing on a tick with nothing due, and forgets a wake-up time the controller replaced', async () => {
    const trace: string[] = [];
    // First asks for +1h; when woken by an input change it asks for +3h instead, and then for nothing.
    const later = START.plus({ hours: 3 });
    h = await harness([sleeper('Mover', START.plus({ hours: 1 }), trace, (now) => (now < later ? later : undefined))]);
    await h.runtime.start();
    await h.runtime.settled();
    await h.clock.advance({ minutes: 59 });
    expect(trace).to.deep.equal(['Mover@0d0h0m0s']);
    await h.setSource('Mover', 1);
    await h.runtime.settled();
    expect(h.clock.nextTimer()?.toISO()).to.equal(START.plus({ hours: 3 }).toISO());
    await h.clock.advance({ minutes: 61 });
    expect(trace).to.deep.equal(['Mover@0d0h0m0s', 'Mover@0d0h59m0s']);
    await h.clock.advance({ hours: 1 });
    expect(trace).to.deep.equal(['Mover@0d0h0m0s', 'Mover@0d0h59m0s', 'Mover@0d3h0m0s']);
  });

  it('runs a requeue at or before now without waiting for the clock to move', async () => {
    const trace: string[] = [];
    h = await harness([sleeper('Eager', START.minus({ hours: 1 }), trace)]);
    await h.runtime.start();
    await h.runtime.settled();
    expect(trace).to.deep.equal(['Eager@0d0h0m0s', 'Eager@0d0h0m0s']);
    expect(h.clock.pendingTimers).to.equal(0);
  });

  it('spaces out a controller that keeps asking to be woken in the past, instead of spinning', async () => {
    const trace: string[] = [];
    h = await harness([sleeper('Stuck', START, trace, () => START)], { random: () => 0.5 });
    await h.runtime.start();
    await h.runtime.settled();
    // At once the first time, then 500 ms, 750 ms, 1125 ms later ...: the clock can move past it.
    expect(trace).to.deep.equal(['Stuck@0d0h0m0s', 'Stuck@0d0h0m0s']);
    await h.clock.advance(500 + 750 + 1125);
    expect(trace.slice(2)).to.deep.equal(['Stuck@0d0h0m0s+500ms', 'Stuck@0d0h0m1s+250ms', 'Stuck@0d0h0m2s+375ms']);
    await h.clock.advance({ hours: 1 });
    expect(trace.length).to.be.below(100);
  });

  it('steps through ten years of daily renewals, each at its exact time', async () => {
    const trace: string[] = [];
    h = await harness([sleeper('Daily', START.plus({ days: 1 }), trace, (now) => now.plus({ days: 1 }))]);
    await h.runtime.start();
    await h.runtime.settled();
    await h.clock.advance({ years: 10 });
    const days = h.clock.now().diff(START, 'days').days;
    expect(days).to.equal(3652); // 2028 and 2032 are leap years
    expect(trace.length).to.equal(1 + 3652);
    expect(trace[trace.length - 1]).to.equal('Daily@3652d0h0m0s');
    expect(trace.every((t, i) => t === `Daily@${i}d0h0m0s`)).to.equal(true);
    expect(h.runtime.status()[0].requeueAt).to.equal(START.plus({ days: 3653 }).toISO());
  });

  it('never wakes a controller that asked for no wake-up time, however far the clock moves', async () => {
    const idleOne: Controller = { name: 'Quiet', inputs: [], outputs: [], reconcile: async () => idle('nothing to do') };
    h = await harness([idleOne]);
    await h.runtime.start();
    await h.runtime.settled();
    expect(h.clock.pendingTimers).to.equal(0);
    await h.clock.advance({ days: 30 });
    expect(h.runtime.status()[0]).to.include({ reconciles: 1, message: 'nothing to do' });
  });
});
