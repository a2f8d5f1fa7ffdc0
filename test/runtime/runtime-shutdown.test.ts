import { expect } from 'chai';
import { exclusive, idle, input, requeueAt, type Controller, type ReconcileContext } from '../../src/runtime/controller.js';
import { RuntimeStoppedError } from '../../src/runtime/runtime-errors.js';
import { Doubles, START, Sources, gate, harness, turns, type Harness } from './runtime-harness.js';

describe('Runtime: shutdown', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('waits for an in-flight reconcile to finish, including its writes, before stop resolves', async () => {
    const held = gate();
    let leaked: ReconcileContext | undefined;
    const slow: Controller = {
      name: 'Slow',
      inputs: [input(Sources)],
      outputs: [exclusive(Doubles)],
      async reconcile(rt) {
        leaked = rt;
        await held.promise;
        await rt.modify(Doubles, 'late', () => ({ value: 1 }));
        return idle();
      },
    };
    h = await harness([slow]);
    await h.runtime.start();
    while (h.runtime.status()[0].state !== 'running') await turns(1);
    let stopped = false;
    const stopping = h.runtime.stop().then(() => (stopped = true));
    await turns();
    expect(stopped).to.equal(false);
    held.open();
    await stopping;
    expect((await h.state.get({ namespace: 'default', type: 'Doubles', id: 'late' })).metadata.owner).to.equal('Slow');

    // Nothing is written after stop resolved, even through a context the controller kept.
    const revision = await h.state.revision();
    let refused: unknown;
    try {
      await leaked!.modify(Doubles, 'after', () => ({ value: 2 }));
    } catch (err) {
      refused = err;
    }
    expect(refused).to.be.instanceOf(RuntimeStoppedError);
    expect((refused as Error).message).to.equal('controller "Slow" cannot write default/Doubles/after: the runtime is stopped');
    expect(await h.state.revision()).to.equal(revision);
  });

  it('reconciles nothing after stop: no input events, no timers', async () => {
    let calls = 0;
    const c: Controller = {
      name: 'Hourly',
      inputs: [input(Sources)],
      outputs: [],
      async reconcile(rt) {
        calls++;
        return requeueAt(rt.clock.now().plus({ hours: 1 }));
      },
    };
    h = await harness([c]);
    await h.runtime.start();
    await h.runtime.settled();
    expect(h.clock.pendingTimers).to.equal(1);
    await h.runtime.stop();
    expect(h.clock.pendingTimers).to.equal(0);
    await h.setSource('x', 1);
    await h.clock.advance({ hours: 5 });
    await turns();
    expect(calls).to.equal(1);
    await h.runtime.settled();
    await h.runtime.stop();
  });

  it('can be stopped before it starts, and cannot start twice', async () => {
    h = await harness([]);
    await h.runtime.start();
    let error: unknown;
    try {
      await h.runtime.start();
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).to.equal('runtime.start(): the runtime is already running; create a new Runtime to start again');
    const other = await harness([]);
    await other.runtime.stop();
    expect(other.runtime.stopped).to.equal(true);
    await other.close();
    expect(h.clock.now().toISO()).to.equal(START.toISO());
  });
});
