// A clock that moves only when told to, for tests and simulations: advancing fires due timers one at a time in time
// order (ties in scheduling order) and waits for the work they start to settle before firing the next, so a run over
// ten years of renewals is as deterministic as one over a second.
import { Duration, type DateTime, type DurationLike } from 'luxon';
import type { Clock } from './clock.js';
import { TimerHeap } from './timer-heap.js';

interface Timer {
  at: DateTime;
  fire: () => void;
}

export class ManualClock implements Clock {
  private current: DateTime;
  private readonly timers = new TimerHeap<Timer>();
  private readonly work = new Set<() => Promise<void>>();
  /** Advances run one after another, each from where the previous one left the clock. */
  private queue: Promise<void> = Promise.resolve();

  constructor(start: DateTime) {
    if (!start.isValid) throw new RangeError(`ManualClock start: invalid time (${start.invalidExplanation ?? start.invalidReason})`);
    this.current = start;
  }

  now(): DateTime {
    return this.current;
  }

  schedule(at: DateTime, fire: () => void): () => void {
    if (!at.isValid) throw new RangeError(`ManualClock.schedule: invalid time (${at.invalidExplanation ?? at.invalidReason})`);
    const timer: Timer = { at, fire };
    this.timers.set(timer, at.toMillis());
    return () => {
      this.timers.delete(timer);
    };
  }

  trackWork(settled: () => Promise<void>): () => void {
    // A distinct wrapper per registration, so registering the same function twice needs two unregisters.
    const entry = () => settled();
    this.work.add(entry);
    return () => {
      this.work.delete(entry);
    };
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** When the earliest pending timer is due, if any. */
  nextTimer(): DateTime | undefined {
    const top = this.timers.peek();
    return top?.key.at;
  }

  /**
   * Moves time forward by `duration` (luxon units: `{ hours: 1 }`, `{ years: 10 }`, or milliseconds), firing every timer
   * due on the way in time order. Resolves once the work they started has settled. `advance(0)` fires timers already due.
   */
  advance(duration: DurationLike): Promise<void> {
    const step = Duration.fromDurationLike(duration);
    if (!step.isValid) throw new RangeError(`ManualClock.advance: invalid duration (${step.invalidExplanation ?? step.invalidReason})`);
    if (step.toMillis() < 0) {
      throw new RangeError(`ManualClock.advance: duration must not be negative, got ${step.toISO()}; use set() to move the clock back`);
    }
    return this.enqueue(() => this.runTo(this.current.plus(step)));
  }

  /**
   * Sets the time. Moving forward fires the timers due on the way, like advance; moving back (a clock correction) fires
   * nothing, and timers wait until the clock reaches them again.
   */
  set(time: DateTime): Promise<void> {
    if (!time.isValid) throw new RangeError(`ManualClock.set: invalid time (${time.invalidExplanation ?? time.invalidReason})`);
    return this.enqueue(async () => {
      if (time >= this.current) return this.runTo(time);
      this.current = time;
      await this.settle();
    });
  }

  /**
   * Jumps to the earliest pending timer (if it is not later than `limit`) and fires every timer due then.
   * Resolves to the new time, or undefined when no timer is pending within the limit. Simulations step with it
   * instead of polling in fixed steps.
   */
  advanceToNext(limit?: DateTime): Promise<DateTime | undefined> {
    return this.enqueue(async () => {
      const next = this.nextTimer();
      if (!next || (limit && next > limit)) return undefined;
      await this.runTo(next > this.current ? next : this.current);
      return this.current;
    });
  }

  private enqueue<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async runTo(target: DateTime): Promise<void> {
    const errors: unknown[] = [];
    const targetMs = target.toMillis();
    for (let top = this.timers.peek(); top && top.at <= targetMs; top = this.timers.peek()) {
      this.timers.delete(top.key);
      // A timer scheduled in the past fires now; time never moves back while advancing.
      if (top.at > this.current.toMillis()) this.current = top.key.at.setZone(this.current.zone);
      try {
        top.key.fire();
      } catch (err) {
        errors.push(err);
      }
      await this.settle();
    }
    if (targetMs > this.current.toMillis()) this.current = target.setZone(this.current.zone);
    await this.settle();
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} timer callbacks threw while advancing the clock`);
  }

  /** Lets promise chains started by fired callbacks run, then waits for every tracked piece of work to settle. */
  private async settle(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (const settled of [...this.work]) await settled();
  }
}
