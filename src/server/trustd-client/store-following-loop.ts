// The shape both worker-side trustd clients share (the apid certificate client and the kubelet CSR client): follow a
// few resources of the store, run one coalesced pass on any change or at the time the last pass asked for, and after a
// store failure try again at the first backoff step rather than stop for good.
import { DateTime } from 'luxon';
import type { Subscription } from 'rxjs';
import type { Clock } from '../../runtime/clock.js';
import { CoalescingLoop } from '../../runtime/coalescing-loop.js';
import type { Pointer } from '../../runtime/resource.js';
import type { RuntimeLogger } from '../../runtime/runtime-context.js';
import type { State } from '../../runtime/state.js';

export interface FollowingLoopOptions {
  state: State;
  clock: Clock;
  log: RuntimeLogger;
  /** Names the client in its log lines, e.g. `trustd client`. */
  name: string;
  /** The resources whose changes start a pass. */
  follows: readonly Pointer[];
  /** After a pass that threw, the next one comes this long after. */
  retryMs: number;
  /** One pass: when to come back (a renewal time, a retry), undefined to wait for a change. */
  reconcile(): Promise<Date | undefined>;
}

export class StoreFollowingLoop {
  private readonly subscriptions: Subscription[];
  private readonly untrack: (() => void) | undefined;
  private readonly loop: CoalescingLoop;

  constructor(private readonly o: FollowingLoopOptions) {
    this.loop = new CoalescingLoop(o.clock, () => this.pass());
    const kick = () => this.loop.kick();
    const report = (err: unknown) => o.log(`${o.name} stopped following the store`, { error: String(err) });
    this.subscriptions = o.follows.map((p) => o.state.watch(p).subscribe({ next: kick, error: report }));
    this.untrack = o.clock.trackWork?.(() => this.settled());
    this.loop.kick();
  }

  settled(): Promise<void> {
    return this.loop.settled();
  }

  async close(): Promise<void> {
    for (const s of this.subscriptions) s.unsubscribe();
    this.untrack?.();
    await this.loop.close();
  }

  private async pass(): Promise<DateTime | undefined> {
    let wakeAt: Date | undefined;
    try {
      wakeAt = await this.o.reconcile();
    } catch (err) {
      this.o.log(`${this.o.name} error`, { error: err instanceof Error ? err.message : String(err) });
      wakeAt = new Date(this.o.clock.now().toMillis() + this.o.retryMs);
    }
    return wakeAt && DateTime.fromJSDate(wakeAt, { zone: 'utc' });
  }
}
