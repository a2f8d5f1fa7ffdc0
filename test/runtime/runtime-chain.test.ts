import { expect } from 'chai';
import { exclusive, idle, input, type Controller } from '../../src/runtime/controller.js';
import type { Resource } from '../../src/runtime/resource.js';
import type { WatchEvent } from '../../src/runtime/state.js';
import { Doubles, Quads, Sources, Totals, harness, type Harness, type Value } from './runtime-harness.js';

// A -> B -> C: Sources (user) -> Doubles (x2) -> Quads (x2) -> Totals/sum (sum of quads).
const doubler: Controller = {
  name: 'DoubleController',
  // Doubles is an input too, so the controller is woken when a consumer lets go of one it is tearing down.
  inputs: [input(Sources), input(Doubles)],
  outputs: [exclusive(Doubles)],
  async reconcile(rt) {
    const sources = await rt.list(Sources);
    for (const s of sources) await rt.modify(Doubles, s.metadata.id, () => ({ value: s.spec.value * 2 }));
    await rt.destroyOthers(Doubles, sources.map((s) => s.metadata.id));
    return idle(`${sources.length} doubled`);
  },
};

// Holds a finalizer on each Doubles it consumes, so Doubles are destroyed only after their Quads are gone.
const quadrupler: Controller = {
  name: 'QuadController',
  inputs: [input(Doubles)],
  outputs: [exclusive(Quads)],
  async reconcile(rt) {
    const keep: string[] = [];
    for (const d of await rt.list(Doubles)) {
      const id = d.metadata.id;
      if (d.metadata.phase === 'tearingDown') {
        await rt.destroy(Quads, id);
        await rt.removeFinalizer(Doubles, id, 'QuadController');
        continue;
      }
      await rt.addFinalizer(Doubles, id, 'QuadController');
      await rt.modify(Quads, id, () => ({ value: d.spec.value * 2 }));
      keep.push(id);
    }
    await rt.destroyOthers(Quads, keep);
    return idle();
  },
};

const summer: Controller = {
  name: 'TotalController',
  inputs: [input(Quads)],
  outputs: [exclusive(Totals)],
  async reconcile(rt) {
    const quads = await rt.list(Quads);
    await rt.modify(Totals, 'sum', () => ({ value: quads.reduce((n, q) => n + q.spec.value, 0) }));
    return idle();
  },
};

async function values(h: Harness, type: string): Promise<Record<string, number>> {
  const list = await h.state.list<Value>({ namespace: 'default', type });
  return Object.fromEntries(list.map((r) => [r.metadata.id, r.spec.value]));
}

describe('Runtime: controller chains', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness([summer, quadrupler, doubler]);
  });
  afterEach(() => h.close());

  it('converges a chain A -> B -> C from inputs that exist before start', async () => {
    await h.setSource('a', 1);
    await h.setSource('b', 2);
    await h.runtime.start();
    await h.runtime.settled();
    expect(await values(h, 'Doubles')).to.deep.equal({ a: 2, b: 4 });
    expect(await values(h, 'Quads')).to.deep.equal({ a: 4, b: 8 });
    expect(await values(h, 'Totals')).to.deep.equal({ sum: 12 });
  });

  it('stamps every write with the controller that made it', async () => {
    await h.setSource('a', 1);
    await h.runtime.start();
    await h.runtime.settled();
    const owner = async (type: string, id: string) => (await h.state.get({ namespace: 'default', type, id })).metadata.owner;
    expect(await owner('Doubles', 'a')).to.equal('DoubleController');
    expect(await owner('Quads', 'a')).to.equal('QuadController');
    expect(await owner('Totals', 'sum')).to.equal('TotalController');
    expect(await owner('Sources', 'a')).to.equal('');
  });

  it('cascades an update of the first input through every stage', async () => {
    await h.runtime.start();
    await h.setSource('a', 1);
    await h.runtime.settled();
    expect(await values(h, 'Totals')).to.deep.equal({ sum: 4 });
    await h.setSource('a', 5);
    await h.setSource('b', 1);
    await h.runtime.settled();
    expect(await values(h, 'Quads')).to.deep.equal({ a: 20, b: 4 });
    expect(await values(h, 'Totals')).to.deep.equal({ sum: 24 });
  });

  it('cascades a delete: tears down, waits for the consumer to drop its finalizer, then destroys', async () => {
    await h.setSource('a', 1);
    await h.setSource('b', 2);
    await h.runtime.start();
    await h.runtime.settled();
    const doubleA = await h.state.get({ namespace: 'default', type: 'Doubles', id: 'a' });
    expect(doubleA.metadata.finalizers).to.deep.equal(['QuadController']);

    const seen: string[] = [];
    const record = (e: WatchEvent) => {
      const r = e.resource as Resource | undefined;
      if (r?.metadata.id === 'a') seen.push(`${r.metadata.type} ${e.type}${e.type === 'updated' ? ` ${r.metadata.phase} [${r.metadata.finalizers.join(',')}]` : ''}`);
    };
    const since = await h.state.revision();
    const subs = [h.state.watchKind(Doubles, { since }).subscribe(record), h.state.watchKind(Quads, { since }).subscribe(record)];
    try {
      await h.state.destroy({ namespace: 'default', type: 'Sources', id: 'a' });
      await h.runtime.settled();
    } finally {
      for (const s of subs) s.unsubscribe();
    }

    expect(await values(h, 'Doubles')).to.deep.equal({ b: 4 });
    expect(await values(h, 'Quads')).to.deep.equal({ b: 8 });
    expect(await values(h, 'Totals')).to.deep.equal({ sum: 8 });
    expect(seen).to.deep.equal([
      'Doubles updated tearingDown [QuadController]',
      'Quads destroyed',
      'Doubles updated tearingDown []',
      'Doubles destroyed',
    ]);
  });

  it('reconciles every controller once at start even with no inputs present', async () => {
    await h.runtime.start();
    await h.runtime.settled();
    expect(await values(h, 'Totals')).to.deep.equal({ sum: 0 });
    expect(h.runtime.status().map((s) => [s.name, s.reconciles])).to.deep.equal([
      ['TotalController', 1],
      ['QuadController', 1],
      ['DoubleController', 1],
    ]);
  });
});
