import { expect } from 'chai';
import fc from 'fast-check';
import { TimerHeap } from '../../src/runtime/timer-heap.js';

describe('TimerHeap', () => {
  it('pops keys in time order, ties in the order they were scheduled', () => {
    const heap = new TimerHeap<string>();
    heap.set('c', 30);
    heap.set('a', 10);
    heap.set('b1', 20);
    heap.set('b2', 20);
    heap.set('b3', 20);
    expect(heap.popDue(100)).to.deep.equal(['a', 'b1', 'b2', 'b3', 'c']);
    expect(heap.size).to.equal(0);
  });

  it('keeps one entry per key: rescheduling moves it, earlier or later', () => {
    const heap = new TimerHeap<string>();
    heap.set('x', 50);
    heap.set('y', 20);
    heap.set('x', 10);
    expect(heap.size).to.equal(2);
    expect(heap.peek()).to.deep.equal({ key: 'x', at: 10 });
    heap.set('x', 90);
    expect(heap.popDue(60)).to.deep.equal(['y']);
    expect(heap.at('x')).to.equal(90);
  });

  it('pops nothing and leaves the heap untouched when nothing is due', () => {
    const heap = new TimerHeap<number>();
    for (let i = 0; i < 1000; i++) heap.set(i, 1000 + i);
    expect(heap.popDue(999)).to.deep.equal([]);
    expect(heap.size).to.equal(1000);
  });

  it('refuses a time that is not a finite number', () => {
    expect(() => new TimerHeap<string>().set('x', NaN)).to.throw(RangeError, 'timer time must be a finite number of milliseconds, got NaN');
  });

  it('agrees with a sorted list under any sequence of set, delete and pop', () => {
    type Op = { op: 'set'; key: number; at: number } | { op: 'delete'; key: number } | { op: 'popDue'; now: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('set' as const), key: fc.integer({ min: 0, max: 20 }), at: fc.integer({ min: 0, max: 50 }) }),
      fc.record({ op: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ op: fc.constant('popDue' as const), now: fc.integer({ min: 0, max: 50 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const heap = new TimerHeap<number>();
        let model: { key: number; at: number; seq: number }[] = [];
        let seq = 0;
        for (const o of ops) {
          if (o.op === 'set') {
            const existing = model.find((e) => e.key === o.key);
            if (existing && existing.at === o.at) continue;
            model = model.filter((e) => e.key !== o.key);
            model.push({ key: o.key, at: o.at, seq: seq++ });
            heap.set(o.key, o.at);
          } else if (o.op === 'delete') {
            expect(heap.delete(o.key)).to.equal(model.some((e) => e.key === o.key));
            model = model.filter((e) => e.key !== o.key);
          } else {
            const due = model.filter((e) => e.at <= o.now).sort((a, b) => a.at - b.at || a.seq - b.seq);
            model = model.filter((e) => e.at > o.now);
            expect(heap.popDue(o.now)).to.deep.equal(due.map((e) => e.key));
          }
          expect(heap.size).to.equal(model.length);
        }
      }),
    );
  });
});
