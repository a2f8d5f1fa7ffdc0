// Work beside the runtime that runs one pass at a time: a kick while a pass runs asks for one more pass after it (kicks
// coalesce, so a burst of store events costs one or two passes), and each pass says when the clock should kick it next
// (a renewal, a retry) or that only a kick will. The trustd client and the CA rotation driver are such loops.
import type { DateTime } from 'luxon';
import type { Clock } from './clock.js';

/** One pass of the work; resolves to the next time it should run by itself, or undefined. It must not reject. */
export type LoopPass = () => Promise<DateTime | undefined>;

export class CoalescingLoop {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private cancelTimer: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly pass: LoopPass,
  ) {}

  get closed(): boolean {
    return this.stopped;
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  /** Resolves once no pass runs (after the one running now and any it was kicked into). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No pass starts after this; resolves once the running one has ended. */
  async close(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    await this.settled();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const next = await this.pass();
      this.cancelTimer?.();
      this.cancelTimer = next && !this.stopped ? this.clock.schedule(next, () => this.kick()) : undefined;
    } while (this.again && !this.stopped);
  }
}
