// The runtime's watches on controller inputs: one watch per input kind, shared by every controller reading it, that
// wakes the controllers an event concerns. A watch that breaks wakes its controllers (they may have missed events),
// and resumes from its last bookmark after a backoff, or from now when that bookmark has left the store's history.
import type { Subscription } from 'rxjs';
import type { Clock } from './clock.js';
import type { ControllerInput } from './controller.js';
import { isStateError } from './errors.js';
import type { Kind } from './resource.js';
import type { RuntimeLogger } from './runtime-context.js';
import type { Bookmark, State } from './state.js';

export interface InputWatchesHost {
  readonly state: State;
  readonly clock: Clock;
  readonly log: RuntimeLogger;
  /** How long to wait before resuming a watch that broke `failures` times in a row. */
  retryDelay(failures: number): number;
}

interface Listener<T> {
  target: T;
  id?: string;
}

export class InputWatches<T> {
  private readonly subscriptions = new Set<Subscription>();
  private readonly retries = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly host: InputWatchesHost,
    private readonly wake: (target: T) => void,
  ) {}

  /** Watches every kind among the inputs from `since`; an input with an id wakes its target for that id only. */
  open(inputs: Iterable<{ input: ControllerInput; target: T }>, since: Bookmark): void {
    const byKind = new Map<string, { kind: Kind; listeners: Listener<T>[] }>();
    for (const { input, target } of inputs) {
      const key = `${input.namespace}\u0000${input.type}`;
      let entry = byKind.get(key);
      if (!entry) byKind.set(key, (entry = { kind: { namespace: input.namespace, type: input.type }, listeners: [] }));
      entry.listeners.push(input.id === undefined ? { target } : { target, id: input.id });
    }
    for (const { kind, listeners } of byKind.values()) this.watch(kind, listeners, since, 0);
  }

  close(): void {
    this.closed = true;
    for (const sub of this.subscriptions) sub.unsubscribe();
    this.subscriptions.clear();
    for (const cancel of this.retries) cancel();
    this.retries.clear();
  }

  private watch(kind: Kind, listeners: Listener<T>[], since: Bookmark, failures: number): void {
    let last = since;
    let sub: Subscription | undefined = undefined;
    sub = this.host.state.watchKind(kind, { since }).subscribe({
      next: (event) => {
        last = event.bookmark;
        failures = 0;
        const id = event.resource?.metadata.id;
        if (id === undefined) return;
        for (const l of listeners) if (l.id === undefined || l.id === id) this.wake(l.target);
      },
      error: (err: unknown) => {
        if (sub) this.subscriptions.delete(sub);
        this.failed(kind, listeners, last, failures + 1, err);
      },
    });
    if (!sub.closed) this.subscriptions.add(sub);
  }

  private failed(kind: Kind, listeners: Listener<T>[], last: Bookmark, failures: number, err: unknown): void {
    if (this.closed) return;
    this.host.log('watch failed; resuming', { kind: `${kind.namespace}/${kind.type}`, error: err instanceof Error ? err.message : String(err), failures });
    for (const l of listeners) this.wake(l.target);
    const resume = async () => {
      this.retries.delete(cancel);
      if (this.closed) return;
      try {
        if (!isStateError(err, 'InvalidBookmark')) return this.watch(kind, listeners, last, failures);
        // Events after `last` cannot be replayed: watch from now and have the controllers read current state again
        // (Kubernetes' re-list after 410 Gone).
        this.watch(kind, listeners, await this.host.state.revision(), failures);
        for (const l of listeners) this.wake(l.target);
      } catch (again) {
        this.failed(kind, listeners, last, failures + 1, again);
      }
    };
    const at = this.host.clock.now().plus({ milliseconds: this.host.retryDelay(failures) });
    const cancel = this.host.clock.schedule(at, () => void resume());
    this.retries.add(cancel);
  }
}
