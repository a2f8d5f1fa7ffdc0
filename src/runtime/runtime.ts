// The reconciliation runtime: wakes each controller when one of its inputs changes (events coalesce into one dirty
// flag), once at start, at the time it asked for, and after a failure with exponential backoff. One timer heap serves
// every controller and one clock timer is armed for its earliest entry, so a tick costs O(due), never O(controllers).
import { DateTime } from 'luxon';
import { backoffDelay, defaultBackoff, type BackoffPolicy } from './backoff.js';
import { systemClock, type Clock } from './clock.js';
import type { Controller, ReconcileResult } from './controller.js';
import { ControllerStatuses, RUNTIME_OWNER, type ControllerStatus } from './controller-status.js';
import type { ResourceRegistry } from './resource.js';
import { InputWatches } from './input-watches.js';
import { ControllerContext, type ContextHost, type RuntimeLogger } from './runtime-context.js';
import { ControllerRegistrationError } from './runtime-errors.js';
import type { State } from './state.js';
import { TimerHeap } from './timer-heap.js';

export interface RuntimeOptions {
  state: State;
  registry: ResourceRegistry;
  clock?: Clock;
  logger?: RuntimeLogger;
  /** Source of backoff jitter, [0, 1) like Math.random (the default); tests pin it to check the bounds. */
  random?: () => number;
  backoff?: BackoffPolicy;
}

/** Live status of one controller, as runtime.status() reports it. */
export interface ControllerRuntimeStatus extends ControllerStatus {
  /** ISO time the controller asked to be woken at, if any. */
  requeueAt?: string;
}

interface Slot {
  readonly controller: Controller;
  readonly context: ControllerContext;
  /** An input changed (or a timer fired) since the last reconcile started. */
  dirty: boolean;
  running?: Promise<void>;
  /** Epoch ms before which a failed controller is not run again, even when dirty. */
  backoffUntil?: number;
  status: ControllerRuntimeStatus;
  /** Consecutive reconciles that asked to be woken at or before the time they finished. */
  immediate: number;
  /** The fields of the last status written to the store, to write again only when something a reader cares about changed. */
  written?: string;
}

type Phase = 'new' | 'running' | 'stopping' | 'stopped';

const noop = (): void => undefined;

export class Runtime implements ContextHost {
  readonly state: State;
  readonly clock: Clock;
  readonly log: RuntimeLogger;
  private readonly registry: ResourceRegistry;
  private readonly random: () => number;
  private readonly backoff: BackoffPolicy;

  private phase: Phase = 'new';
  private stopping?: Promise<void>;
  private readonly slots = new Map<string, Slot>();
  private readonly heap = new TimerHeap<Slot>();
  private armed?: { at: number; cancel: () => void };
  private drainScheduled = false;
  private readonly watches: InputWatches<Slot>;
  private waiters: (() => void)[] = [];
  private idleCheckScheduled = false;
  private untrack?: () => void;

  constructor(options: RuntimeOptions) {
    this.state = options.state;
    this.registry = options.registry;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? noop;
    this.random = options.random ?? Math.random;
    this.backoff = options.backoff ?? defaultBackoff;
    if (!this.registry.has(ControllerStatuses.type)) this.registry.register(ControllerStatuses);
    const retryDelay = (failures: number) => backoffDelay(failures, this.random, this.backoff);
    this.watches = new InputWatches<Slot>({ state: this.state, clock: this.clock, log: this.log, retryDelay }, (slot) => this.poke(slot));
  }

  get stopped(): boolean {
    return this.phase === 'stopped';
  }

  get controllers(): readonly Controller[] {
    return [...this.slots.values()].map((s) => s.controller);
  }

  /** Adds a controller before start(); refuses a name taken, an unknown type, or an output another controller owns exclusively. */
  register(controller: Controller): void {
    const name = controller.name;
    const refuse = (detail: string): never => {
      throw new ControllerRegistrationError(name, detail);
    };
    if (this.phase !== 'new') refuse('the runtime has already started; register every controller before start()');
    if (!name) refuse('its name is empty');
    if (name === RUNTIME_OWNER) refuse(`"${RUNTIME_OWNER}" is the owner name of the runtime's own writes; choose another name`);
    if (this.slots.has(name)) refuse('a controller with this name is already registered');
    for (const i of controller.inputs) {
      if (!this.registry.has(i.type)) refuse(`input type "${i.type}" is not in the resource registry; register its definition first`);
    }
    for (const o of controller.outputs) {
      if (!this.registry.has(o.type)) refuse(`output type "${o.type}" is not in the resource registry; register its definition first`);
      if (o.type === ControllerStatuses.type) refuse(`${o.type} is written by the runtime itself; remove it from the outputs`);
      for (const other of this.slots.values()) {
        const theirs = other.controller.outputs.find((x) => x.type === o.type);
        if (!theirs || (o.kind === 'shared' && theirs.kind === 'shared')) continue;
        refuse(
          theirs.kind === 'exclusive'
            ? `output ${o.type} is already exclusive to controller "${other.controller.name}"; make one of them the only writer`
            : `output ${o.type} is declared exclusive but controller "${other.controller.name}" already writes it (shared); declare it shared in both`,
        );
      }
    }
    const slot: Slot = {
      controller,
      context: new ControllerContext(controller, this),
      dirty: false,
      immediate: 0,
      status: { name, state: 'idle', failures: 0, reconciles: 0 },
    };
    this.slots.set(name, slot);
  }

  /** Watches every input kind from the current revision and reconciles every controller once. */
  async start(): Promise<void> {
    if (this.phase !== 'new') throw new Error(`runtime.start(): the runtime is already ${this.phase}; create a new Runtime to start again`);
    this.phase = 'running';
    this.untrack = this.clock.trackWork?.(() => this.settled());
    const since = await this.state.revision();
    await this.forgetStatusesOfUnregistered();
    if (this.phase !== 'running') return; // stopped while starting
    const slots = [...this.slots.values()];
    this.watches.open(
      slots.flatMap((slot) => slot.controller.inputs.map((input) => ({ input, target: slot }))),
      since,
    );
    for (const slot of this.slots.values()) slot.dirty = true;
    this.scheduleDrain();
  }

  /**
   * A controller renamed or removed (an upgrade) would otherwise leave its last ControllerStatuses behind, reporting a
   * failure for ever that nothing will clear.
   */
  private async forgetStatusesOfUnregistered(): Promise<void> {
    // Best effort, like writeStatus: the controllers run whether or not the store takes statuses now.
    try {
      const statuses = await this.state.list<ControllerStatus>({ namespace: ControllerStatuses.namespace, type: ControllerStatuses.type });
      for (const s of statuses) {
        const slot = this.slots.get(s.metadata.id);
        // What a reader cares about, as the last run left it: a start that ends the same (idle, no failures, the same
        // message) writes nothing. Each start wrote every status again, and each write woke the status controllers.
        if (slot) slot.written = statusFingerprint(s.spec);
        if (slot || s.metadata.owner !== RUNTIME_OWNER) continue;
        await this.state.destroy(s.metadata, { owner: RUNTIME_OWNER });
        this.log('removed the status of a controller no longer run', { controller: s.metadata.id });
      }
    } catch (err) {
      this.log('removing stale controller statuses failed', { error: describe(err) });
    }
  }

  /** Stops waking controllers, waits for the reconciles in flight, then refuses every further write. Idempotent. */
  stop(): Promise<void> {
    if (this.phase === 'new') this.phase = 'stopped';
    if (this.phase === 'stopped') return Promise.resolve();
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /**
   * Resolves once no controller is running or waiting to run and no timer is due now. A controller in backoff waits
   * for its retry time and does not hold this up; neither does a requeue in the future.
   */
  settled(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.checkIdle();
    });
  }

  /** Every registered controller's status, live (the ControllerStatuses resources lag behind by design: see writeStatus). */
  status(): ControllerRuntimeStatus[] {
    return [...this.slots.values()].map((s) => ({ ...s.status }));
  }

  private async shutdown(): Promise<void> {
    this.phase = 'stopping';
    this.watches.close();
    this.armed?.cancel();
    this.armed = undefined;
    this.untrack?.();
    await Promise.all([...this.slots.values()].map((s) => s.running));
    this.phase = 'stopped';
    this.releaseWaiters();
  }

  private poke(slot: Slot): void {
    slot.dirty = true;
    this.scheduleDrain();
  }

  /** Runs on the next turn of the event loop, so a burst of events in one turn costs one reconcile, not one each. */
  private scheduleDrain(): void {
    if (this.drainScheduled || this.phase !== 'running') return;
    this.drainScheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.drainScheduled = false;
    if (this.phase !== 'running') return;
    for (const slot of this.heap.popDue(this.clock.now().toMillis())) {
      slot.backoffUntil = undefined;
      slot.dirty = true;
    }
    for (const slot of this.slots.values()) {
      if (slot.dirty && !slot.running && slot.backoffUntil === undefined) this.run(slot);
    }
    this.armTimer();
    this.checkIdle();
  }

  private run(slot: Slot): void {
    slot.dirty = false;
    slot.running = this.reconcile(slot).finally(() => {
      slot.running = undefined;
      if (slot.dirty && slot.backoffUntil === undefined) this.scheduleDrain();
      this.checkIdle();
    });
  }

  private async reconcile(slot: Slot): Promise<void> {
    const status = slot.status;
    status.state = 'running';
    status.reconciles++;
    let result: ReconcileResult | undefined;
    let failure: unknown;
    try {
      result = checkResult(await slot.controller.reconcile(slot.context));
    } catch (err) {
      failure = err;
    }
    const now = this.clock.now();
    status.lastReconcile = iso(now);
    if (result) {
      status.state = 'idle';
      status.failures = 0;
      status.lastSuccess = status.lastReconcile;
      status.message = result.message;
      delete status.nextRetry;
      slot.backoffUntil = undefined;
      const wake = result.requeueAt && this.wakeTime(slot, result.requeueAt, now);
      if (wake) {
        status.requeueAt = iso(wake);
        this.heap.set(slot, wake.toMillis());
      } else {
        slot.immediate = 0;
        delete status.requeueAt;
        this.heap.delete(slot);
      }
    } else {
      status.state = 'backoff';
      status.failures++;
      status.lastError = describe(failure);
      const retry = now.plus({ milliseconds: backoffDelay(status.failures, this.random, this.backoff) });
      status.nextRetry = iso(retry);
      delete status.requeueAt;
      slot.backoffUntil = retry.toMillis();
      this.heap.set(slot, slot.backoffUntil);
      this.log('reconcile failed; retrying with backoff', {
        controller: slot.controller.name,
        error: status.lastError,
        failures: status.failures,
        nextRetry: status.nextRetry,
      });
    }
    this.armTimer();
    await this.writeStatus(slot);
  }

  /**
   * A wake-up time at or before now means "again, at once" (the first time). Asked again and again, it is spaced out by
   * the backoff schedule, as Kubernetes rate-limits immediate requeues: a controller stuck asking for the past must not
   * spin, and a manual clock must be able to move past it.
   */
  private wakeTime(slot: Slot, requested: DateTime, now: DateTime): DateTime {
    if (requested > now) {
      slot.immediate = 0;
      return requested;
    }
    if (slot.immediate++ === 0) return requested;
    const delay = backoffDelay(slot.immediate - 1, this.random, this.backoff);
    if (slot.immediate === 2) this.log('controller keeps asking to be woken at once; spacing its requeues out', { controller: slot.controller.name });
    return now.plus({ milliseconds: delay });
  }

  /**
   * Writes the ControllerStatuses resource when state, failures, last error, next retry or message changed. Counters
   * and timestamps ride along but do not trigger a write on their own: a status watcher that itself reconciles would
   * otherwise wake on every reconcile of every controller, forever. A start compares with what the last run wrote.
   */
  private async writeStatus(slot: Slot): Promise<void> {
    const { name, state, failures, lastError, nextRetry, message, lastReconcile, lastSuccess, reconciles } = slot.status;
    const fingerprint = statusFingerprint(slot.status);
    if (fingerprint === slot.written) return;
    const spec: ControllerStatus = { name, state, failures, reconciles };
    Object.assign(spec, defined({ lastError, nextRetry, message, lastReconcile, lastSuccess }));
    try {
      await this.state.modify<ControllerStatus>(
        { namespace: ControllerStatuses.namespace, type: ControllerStatuses.type, id: name },
        () => ({ spec }),
        { owner: RUNTIME_OWNER },
      );
      slot.written = fingerprint;
    } catch (err) {
      this.log('writing controller status failed', { controller: name, error: describe(err) });
    }
  }

  /** Keeps exactly one clock timer, armed for the earliest heap entry; an entry already due goes straight to a drain. */
  private armTimer(): void {
    const top = this.phase === 'running' ? this.heap.peek() : undefined;
    if (this.armed && this.armed.at === top?.at) return;
    this.armed?.cancel();
    this.armed = undefined;
    if (!top) return;
    if (top.at <= this.clock.now().toMillis()) return this.scheduleDrain();
    const token: { at: number; cancel: () => void } = { at: top.at, cancel: noop };
    this.armed = token;
    token.cancel = this.clock.schedule(DateTime.fromMillis(top.at, { zone: 'utc' }), () => {
      if (this.armed !== token) return;
      this.armed = undefined;
      this.scheduleDrain();
    });
  }

  private isIdle(): boolean {
    if (this.phase !== 'running') return true;
    if (this.drainScheduled) return false;
    for (const slot of this.slots.values()) {
      if (slot.running || (slot.dirty && slot.backoffUntil === undefined)) return false;
    }
    const top = this.heap.peek();
    return !top || top.at > this.clock.now().toMillis();
  }

  /** Confirms idleness one event-loop turn later, so events delivered in that turn are not missed. */
  private checkIdle(): void {
    if (this.waiters.length === 0 || this.idleCheckScheduled || !this.isIdle()) return;
    this.idleCheckScheduled = true;
    setImmediate(() => {
      this.idleCheckScheduled = false;
      if (this.isIdle()) this.releaseWaiters();
    });
  }

  private releaseWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

function checkResult(result: ReconcileResult | undefined): ReconcileResult {
  const out = result ?? {};
  if (out.requeueAt !== undefined && !(DateTime.isDateTime(out.requeueAt) && out.requeueAt.isValid)) {
    throw new Error(`reconcile returned an invalid requeueAt (${String(out.requeueAt)}); return a valid luxon DateTime or none`);
  }
  return out;
}

function iso(time: DateTime): string {
  return time.toUTC().toISO()!;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function defined<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The fields of a controller's status whose change is worth a write (see writeStatus). */
function statusFingerprint(s: ControllerStatus): string {
  return JSON.stringify([s.state, s.failures, s.lastError, s.nextRetry, s.message]);
}
