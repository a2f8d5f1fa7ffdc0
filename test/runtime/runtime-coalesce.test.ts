import { expect } from 'chai';
import { idle, input, type Controller } from '../../src/runtime/controller.js';
import { Sources, gate, harness, turns, type Harness } from './runtime-harness.js';

/** Counts its reconciles and records how many Sources each one saw. */
function counter(name = 'Counter', only?: string): Controller & { seen: number[]; hold?: Promise<void> } {
  const c: Controller & { seen: number[]; hold?: Promise<void> } = {
    name,
    inputs: [input(Sources, 'default', only)],
    outputs: [],
    seen: [],
    async reconcile(rt) {
      const list = await rt.list(Sources);
      c.seen.push(list.length);
      if (c.hold) await c.hold;
      return idle();
    },
  };
  return c;
}

describe('Runtime: event coalescing', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('turns a burst of 1,000 input changes into a handful of reconciles that see the final state', async () => {
    const c = counter();
    h = await harness([c]);
    await h.runtime.start();
    await h.runtime.settled();
    expect(c.seen).to.deep.equal([0]);
    for (let i = 0; i < 1000; i++) await h.setSource(`s${i}`, i);
    await h.runtime.settled();
    const extra = c.seen.length - 1;
    expect(extra).to.be.within(1, 10);
    expect(c.seen[c.seen.length - 1]).to.equal(1000);
  });

  it('turns 1,000 updates of one resource into a handful of reconciles', async () => {
    const c = counter();
    h = await harness([c]);
    await h.runtime.start();
    await h.runtime.settled();
    for (let i = 0; i < 1000; i++) await h.setSource('one', i);
    await h.runtime.settled();
    expect(c.seen.length - 1).to.be.within(1, 10);
    expect((await h.state.get({ namespace: 'default', type: 'Sources', id: 'one' })).metadata.version).to.equal(1000);
  });

  it('runs exactly one follow-up reconcile for all the changes made while a reconcile was in flight', async () => {
    const c = counter();
    h = await harness([c]);
    await h.runtime.start();
    await h.runtime.settled();
    const held = gate();
    c.hold = held.promise;
    await h.setSource('first', 1);
    while (h.runtime.status()[0].state !== 'running') await turns(1);
    for (let i = 0; i < 1000; i++) await h.setSource(`s${i}`, i);
    await turns();
    expect(c.seen).to.deep.equal([0, 1]);
    c.hold = undefined;
    held.open();
    await h.runtime.settled();
    expect(c.seen).to.deep.equal([0, 1, 1001]);
  });

  it('wakes a controller watching one id only for changes to that id', async () => {
    const c = counter('OnlyOne', 'only');
    h = await harness([c]);
    await h.runtime.start();
    await h.runtime.settled();
    for (let i = 0; i < 10; i++) await h.setSource(`other${i}`, i);
    await h.runtime.settled();
    expect(c.seen.length).to.equal(1);
    await h.setSource('only', 1);
    await h.runtime.settled();
    // An id-scoped input lists only that id.
    expect(c.seen).to.deep.equal([0, 1]);
  });
});
