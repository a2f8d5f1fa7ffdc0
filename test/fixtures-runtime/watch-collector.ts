// Subscribes to a watch and lets a test wait until the events it expects have arrived (or the watch failed).
import type { Observable, Subscription } from 'rxjs';
import type { WatchEvent } from '../../src/runtime/state.js';

export class WatchCollector<Spec = unknown> {
  readonly events: WatchEvent<Spec>[] = [];
  error: unknown;
  private readonly subscription: Subscription;
  private readonly waiters: (() => void)[] = [];

  constructor(source: Observable<WatchEvent<Spec>>) {
    this.subscription = source.subscribe({
      next: (e) => {
        this.events.push(e);
        this.wake();
      },
      error: (err: unknown) => {
        this.error = err;
        this.wake();
      },
    });
  }

  /** Resolves once `count` events arrived; rejects if the watch errors first (or nothing comes for `patienceMs`). */
  async waitFor(count: number, patienceMs = 10_000): Promise<WatchEvent<Spec>[]> {
    const deadline = Date.now() + patienceMs;
    while (this.events.length < count) {
      if (this.error !== undefined) throw this.error;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${count} watch events, got ${this.events.length}: ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.events.slice(0, count);
  }

  /** Resolves with the watch's error; fails if it delivers `count` events instead. */
  async waitForError(patienceMs = 10_000): Promise<unknown> {
    const deadline = Date.now() + patienceMs;
    while (this.error === undefined) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected the watch to fail, got events: ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.error;
  }

  describe(): string {
    return this.events.map((e) => `${e.type}@${e.bookmark}:${e.resource?.metadata.id ?? ''}`).join(' ');
  }

  stop(): void {
    this.subscription.unsubscribe();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
