import { expect } from 'chai';
import { Observable } from 'rxjs';
import { idle, input, type Controller } from '../../src/runtime/controller.js';
import { InvalidBookmarkError, UnavailableError } from '../../src/runtime/errors.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { State, WatchEvent } from '../../src/runtime/state.js';
import { Sources, harness, type Harness } from './runtime-harness.js';

/**
 * The real SQLite store, with a switch that breaks the watches open on it, the way a networked backend (etcd) drops a
 * watch when the connection goes.
 */
function withBreakableWatches(real: State): { state: State; breakWatches(err: Error): number; sinces: (number | undefined)[] } {
  const breakers = new Set<(err: Error) => void>();
  const sinces: (number | undefined)[] = [];
  const watchKind = <Spec,>(kind: Parameters<State['watchKind']>[0], options?: Parameters<State['watchKind']>[1]) =>
    new Observable<WatchEvent<Spec>>((subscriber) => {
      sinces.push(options?.since);
      const inner = real.watchKind<Spec>(kind, options).subscribe({
        next: (event) => subscriber.next(event),
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      const breaker = (err: Error) => {
        inner.unsubscribe();
        subscriber.error(err);
      };
      breakers.add(breaker);
      return () => {
        breakers.delete(breaker);
        inner.unsubscribe();
      };
    });
  const state = new Proxy(real, {
    get(target, prop) {
      if (prop === 'watchKind') return watchKind;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    state,
    sinces,
    breakWatches(err) {
      const all = [...breakers];
      for (const b of all) b(err);
      return all.length;
    },
  };
}

describe('Runtime: broken watches', () => {
  let h: Harness;
  afterEach(() => h.close());

  async function setUp(): Promise<{ seen: number[]; breakWatches(err: Error): number; sinces: (number | undefined)[] }> {
    const seen: number[] = [];
    const counter: Controller = {
      name: 'Counter',
      inputs: [input(Sources)],
      outputs: [],
      async reconcile(rt) {
        seen.push((await rt.list(Sources)).length);
        return idle();
      },
    };
    h = await harness([]);
    const { state, breakWatches, sinces } = withBreakableWatches(h.state);
    h.runtime = new Runtime({ state, registry: h.registry, clock: h.clock, random: () => 0.5 });
    h.runtime.register(counter);
    await h.runtime.start();
    await h.runtime.settled();
    return { seen, breakWatches, sinces };
  }

  it('wakes the controllers of a broken watch and resumes it from its last bookmark after a backoff, missing nothing', async () => {
    const { seen, breakWatches, sinces } = await setUp();
    await h.setSource('before', 1);
    const lastSeen = await h.state.revision();
    await h.runtime.settled();
    expect(seen).to.deep.equal([0, 1]);

    expect(breakWatches(new UnavailableError('connection reset'))).to.equal(1);
    await h.runtime.settled();
    expect(seen).to.deep.equal([0, 1, 1]);

    await h.setSource('while-broken', 1);
    await h.runtime.settled();
    expect(seen).to.deep.equal([0, 1, 1]);

    // The watch comes back 500 ms later (first backoff step) and replays what it missed.
    await h.clock.advance(499);
    expect(seen).to.deep.equal([0, 1, 1]);
    await h.clock.advance(1);
    expect(seen).to.deep.equal([0, 1, 1, 2]);
    expect(sinces.length).to.equal(2);
    expect(sinces[1]).to.equal(lastSeen);

    await h.setSource('after', 1);
    await h.runtime.settled();
    expect(seen).to.deep.equal([0, 1, 1, 2, 3]);
  });

  it('re-reads current state when its resume point has fallen out of the history', async () => {
    const { seen, breakWatches, sinces } = await setUp();
    breakWatches(new InvalidBookmarkError(1, 50));
    await h.runtime.settled();
    await h.setSource('while-broken', 1);
    const revision = await h.state.revision();
    const before = seen.length;
    await h.clock.advance(500);
    // Resumed from the current revision (nothing to replay), and the controller re-read state on its own.
    expect(sinces[1]).to.equal(revision);
    expect(seen.length).to.equal(before + 1);
    expect(seen[seen.length - 1]).to.equal(1);
    await h.setSource('after', 1);
    await h.runtime.settled();
    expect(seen[seen.length - 1]).to.equal(2);
  });

  it('closes every watch on stop, even when stopped while still starting', async () => {
    h = await harness([]);
    const counter: Controller = { name: 'Counter', inputs: [input(Sources)], outputs: [], reconcile: async () => idle() };
    for (const stopEarly of [false, true]) {
      const { state, breakWatches } = withBreakableWatches(h.state);
      const runtime = new Runtime({ state, registry: h.registry, clock: h.clock });
      runtime.register(counter);
      const starting = runtime.start();
      if (stopEarly) await runtime.stop();
      await starting;
      await runtime.settled();
      await runtime.stop();
      expect(breakWatches(new Error('probe')), stopEarly ? 'stopped while starting' : 'stopped after start').to.equal(0);
      expect(runtime.status()[0].reconciles).to.equal(stopEarly ? 0 : 1);
    }
  });
});
