// Appends records to the node's audit trail, cheaply enough to sit beside every issuance. Records handed in are
// committed in groups, flushDelayMs after the first of the group (or once MAX_GROUP are waiting), so a burst (a node
// issuing its certificates, trustd under load) costs one store transaction per group, not per record: the commit,
// not the record, is most of an append's cost. Each
// record is created at id = its sequence number, so two processes appending to one store (serve and a --state command,
// or control planes sharing etcd) cannot fork the chain: the loser's create fails, it finds the new end and links
// after it. Every `signEvery` records, on the injected clock's timer and at close, a `chain-signed` record signs the
// head and the AuditHeads resource moves to it (compare-and-swap on its version). Retention prunes the oldest records
// in one transaction with the `pruned` record that says so.
import type { DateTime } from 'luxon';
import { AUDIT_HEAD_ID, AuditHeads, AuditRecords, GENESIS, auditRecordId } from '../../resources/audit-records.js';
import type { AuditDetails, AuditHeadSpec, AuditRecordSpec } from '../../resources/audit-records.js';
import type { Clock } from '../../runtime/clock.js';
import { systemClock } from '../../runtime/clock.js';
import { isStateError } from '../../runtime/errors.js';
import type { Pointer, Resource } from '../../runtime/resource.js';
import type { BatchOp, State } from '../../runtime/state.js';
import type { AuditEvent, AuditSink } from './audit-event.js';
import { auditSigningKey, signHead } from './audit-key.js';
import type { AuditSigningKey } from './audit-key.js';
import { recordHash } from './canonical.js';
import { refuseSecrets } from './secret-guard.js';

export const AUDIT_OWNER = 'AuditTrail';
export const AUDIT_HEAD_POINTER: Pointer = { namespace: AuditHeads.namespace, type: AuditHeads.type, id: AUDIT_HEAD_ID };

export interface AuditRetention {
  /** Records older than this are pruned (default 365 days). */
  maxAgeHours?: number;
  /** At most this many records are kept (default 100,000). */
  maxCount?: number;
}

export interface AuditRecorderOptions {
  state: State;
  clock?: Clock;
  /** Sign the head once this many records are unsigned (default 64). */
  signEvery?: number;
  /** And at least this often while records are unsigned (default 60 s), on the clock's timer once start() runs. */
  signIntervalMs?: number;
  /**
   * A group is committed this many milliseconds after its first record (default 50), with what arrived since. It is
   * I/O coalescing, not time the trail records, so it runs on a real timer. A process killed inside the window loses
   * those records, as a power cut loses the store's last commits (synchronous=NORMAL).
   */
  flushDelayMs?: number;
  retention?: AuditRetention;
  /** Where a failed append is reported (a record must never fail the operation it records). */
  onError?: (message: string, fields: Record<string, unknown>) => void;
}

const DEFAULT_SIGN_EVERY = 64;
const DEFAULT_SIGN_INTERVAL_MS = 60_000;
const DEFAULT_FLUSH_DELAY_MS = 50;
const DEFAULT_MAX_AGE_HOURS = 365 * 24;
const DEFAULT_MAX_COUNT = 100_000;
/**
 * Sizes that keep every transaction under etcd's default --max-txn-ops (128: each change is two etcd operations, plus
 * one): a group of records with its signature and the head, or a pruning step with its record, the head and a signature.
 */
const MAX_GROUP = 60;
const PRUNE_BATCH = 50;
/** Pruning steps one timer tick takes at most (a retention cut by a lot catches up over a few ticks). */
const PRUNE_STEPS_PER_TICK = 100;
const MAX_ATTEMPTS = 8;

/** The end of the chain as this process last saw it. */
interface Tail {
  seq: number;
  hash: string;
  first: number;
  /** The AuditHeads resource as read, for its compare-and-swap; undefined before the first signature. */
  headResource?: Resource<AuditHeadSpec>;
}

/** An event with the time it was handed in: a record says when the operation happened, not when it was committed. */
type TimedEvent = AuditEvent & { time: string };

export class AuditRecorder implements AuditSink {
  private readonly state: State;
  private readonly clock: Clock;
  private readonly signEvery: number;
  private readonly signIntervalMs: number;
  private readonly flushDelayMs: number;
  private readonly maxAgeMs: number;
  private readonly maxCount: number;
  private readonly onError: NonNullable<AuditRecorderOptions['onError']>;
  private queue: Promise<void> = Promise.resolve();
  private pending: TimedEvent[] = [];
  /** Settles once the pending group is committed (or its failure reported): one promise a group, not one a record. */
  private pendingDone: { promise: Promise<void>; resolve: () => void } | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private tail: Tail | undefined;
  private key: AuditSigningKey | undefined;
  private unsigned = 0;
  private cancelTimer: (() => void) | undefined;
  private closed = false;

  constructor(options: AuditRecorderOptions) {
    this.state = options.state;
    this.clock = options.clock ?? systemClock;
    this.signEvery = options.signEvery ?? DEFAULT_SIGN_EVERY;
    this.signIntervalMs = options.signIntervalMs ?? DEFAULT_SIGN_INTERVAL_MS;
    this.flushDelayMs = options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS;
    this.maxAgeMs = (options.retention?.maxAgeHours ?? DEFAULT_MAX_AGE_HOURS) * 3_600_000;
    this.maxCount = options.retention?.maxCount ?? DEFAULT_MAX_COUNT;
    if (!(this.signEvery >= 1) || !(this.signIntervalMs > 0) || !(this.flushDelayMs >= 0) || !(this.maxAgeMs > 0) || !(this.maxCount >= 2)) {
      throw new RangeError(
        `audit: signEvery must be >= 1, signIntervalMs and maxAgeHours > 0, flushDelayMs >= 0, maxCount >= 2; got (in that order) ${this.signEvery}, ${this.signIntervalMs}, ${this.maxAgeMs / 3_600_000}, ${this.flushDelayMs}, ${this.maxCount}`,
      );
    }
    this.onError = options.onError ?? (() => undefined);
  }

  /** Resolves once the record is committed (or its failure reported); callers on a hot path need not wait. */
  record(event: AuditEvent): Promise<void> {
    try {
      refuseSecrets(event.details);
    } catch (err) {
      this.onError(`audit record (${event.action}) not written`, { error: (err as Error).message });
      return Promise.resolve();
    }
    this.pending.push({ ...event, time: this.isoNow() });
    const group = (this.pendingDone ??= settler());
    this.scheduleFlush();
    return group.promise;
  }

  /** Signs the head on the clock's timer and prunes by age there too; stop with close(). */
  start(): this {
    const arm = () => {
      if (this.closed) return;
      this.cancelTimer = this.clock.schedule(this.clock.now().plus({ milliseconds: this.signIntervalMs }), () => {
        void this.tick().finally(arm);
      });
    };
    arm();
    return this;
  }

  /** Commits what is pending, signs whatever is unsigned and prunes what retention drops: the timer's work. */
  tick(): Promise<void> {
    void this.flushNow();
    return this.enqueue('audit head not signed', async () => {
      if (this.unsigned > 0) await this.commit([], true);
      for (let step = 0; step < PRUNE_STEPS_PER_TICK && (await this.prune()); step++);
    });
  }

  /** Commits every record handed in so far; resolves once they are written (or reported as failed). */
  flushed(): Promise<void> {
    return this.flushNow();
  }

  /** Commits what is pending and signs the unsigned tail, then stops the timer. */
  async close(): Promise<void> {
    if (this.closed) return;
    void this.flushNow();
    await this.enqueue('audit head not signed', async () => {
      if (this.unsigned > 0) await this.commit([], true);
    });
    this.closed = true;
    this.cancelTimer?.();
  }

  private scheduleFlush(): void {
    if (this.pending.length >= MAX_GROUP) {
      void this.flushNow();
      return;
    }
    if (this.flushTimer) return;
    // Not unref'd: a pending record keeps the process alive until it is committed (a CLI command, a stopping node).
    this.flushTimer = setTimeout(() => void this.flushNow(), this.flushDelayMs);
  }

  private flushNow(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const group = this.pending;
    const settled = this.pendingDone;
    this.pending = [];
    this.pendingDone = undefined;
    if (group.length === 0) return this.queue;
    return this.enqueue(`audit records (${group.length}) not written`, async () => {
      try {
        await this.commit(group, false);
        if (this.tail && this.tail.seq - this.tail.first + 1 > this.maxCount) await this.prune();
      } finally {
        settled?.resolve();
      }
    });
  }

  private enqueue(failure: string, work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work).catch((err: unknown) => {
      // The tail we hold may be what failed (a store reopened, a write by another process): find it afresh next time.
      this.tail = undefined;
      this.onError(failure, { error: err instanceof Error ? err.message : String(err) });
    });
    this.queue = next;
    return next;
  }

  /**
   * Links `events` after the tail in one transaction, with a head signature after them when `sign` or when signEvery
   * is reached; `extra` ops (pruning's destroys) and `first` (the new start) go in the same transaction. Retries from
   * a fresh tail when another writer got there first.
   */
  private async commit(events: readonly TimedEvent[], sign: boolean, extra: BatchOp[] = [], first?: number): Promise<void> {
    const willSign = sign || this.unsigned + events.length >= this.signEvery;
    if (willSign) this.key ??= await auditSigningKey(this.state);
    for (let attempt = 1; ; attempt++) {
      const tail = (this.tail ??= await this.readTail());
      const ops: BatchOp[] = [...extra];
      let { seq, hash } = tail;
      const link = (event: TimedEvent) => {
        const spec = this.linked(seq + 1, hash, event);
        ops.push({ op: 'create', resource: { metadata: recordPointer(spec.seq), spec }, owner: AUDIT_OWNER });
        seq = spec.seq;
        hash = recordHash(spec);
      };
      events.forEach(link);
      const signed = willSign && seq > 0;
      if (signed) link({ actor: AUDIT_OWNER, action: 'chain-signed', time: this.isoNow(), details: { through: seq, hash, keyId: this.key!.keyId, signature: signHead(this.key!, seq, hash) } });
      const moveHead = signed || first !== undefined;
      const head: AuditHeadSpec = { seq, hash, first: first ?? tail.first };
      if (moveHead) {
        ops.push(
          tail.headResource
            ? { op: 'update', resource: { ...tail.headResource, spec: head }, owner: AUDIT_OWNER }
            : { op: 'create', resource: { metadata: AUDIT_HEAD_POINTER, spec: head }, owner: AUDIT_OWNER },
        );
      }
      if (ops.length === 0) return;
      try {
        const written = await this.state.batch(ops);
        this.tail = { ...head, headResource: moveHead ? (written[written.length - 1] as Resource<AuditHeadSpec>) : tail.headResource };
        this.unsigned = signed ? 0 : this.unsigned + events.length;
        return;
      } catch (err) {
        const raced = isStateError(err, 'Conflict') || isStateError(err, 'AlreadyExists');
        this.tail = undefined;
        if (!raced || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  private linked(seq: number, prev: string, event: TimedEvent): AuditRecordSpec {
    return {
      seq,
      prev,
      time: event.time,
      actor: event.actor,
      ...(event.source ? { source: event.source } : {}),
      action: event.action,
      details: event.details,
    };
  }

  /** The head as last signed, then forward record by record to the real end (at most signEvery records past it). */
  private async readTail(): Promise<Tail> {
    const head = await this.state.find<AuditHeadSpec>(AUDIT_HEAD_POINTER);
    let tail: Tail = head ? { ...head.spec, headResource: head } : { seq: 0, hash: GENESIS, first: 1 };
    for (;;) {
      const next = await this.state.find<AuditRecordSpec>(recordPointer(tail.seq + 1));
      if (!next) return tail;
      tail = { ...tail, seq: next.spec.seq, hash: recordHash(next.spec) };
    }
  }

  /** Drops what retention no longer keeps (up to PRUNE_BATCH), in one transaction with the record that says so. */
  private async prune(): Promise<boolean> {
    const tail = (this.tail ??= await this.readTail());
    const byCount = tail.seq - this.maxCount + 1;
    const cutoff = this.now().toMillis() - this.maxAgeMs;
    const oldest = await this.state.find<AuditRecordSpec>(recordPointer(tail.first));
    if (byCount <= tail.first && !(oldest && Date.parse(oldest.spec.time) < cutoff)) return false;
    const candidates = await this.state.list<AuditRecordSpec>(
      { namespace: AuditRecords.namespace, type: AuditRecords.type },
      { ids: range(tail.first, Math.min(tail.first + PRUNE_BATCH, tail.seq) - 1).map(auditRecordId) },
    );
    // By count: everything below byCount; by age: the leading run older than the cutoff. The newest record stays.
    let last: Resource<AuditRecordSpec> | undefined;
    for (const r of candidates) {
      if (r.spec.seq >= byCount && Date.parse(r.spec.time) >= cutoff) break;
      last = r;
    }
    if (!last) return false;
    const through = last.spec.seq;
    const destroys: BatchOp[] = range(tail.first, through).map((seq) => ({ op: 'destroy', pointer: recordPointer(seq), owner: AUDIT_OWNER }));
    const details: AuditDetails = { from: tail.first, through, lastHash: recordHash(last.spec), count: through - tail.first + 1 };
    await this.commit([{ actor: AUDIT_OWNER, action: 'pruned', time: this.isoNow(), details }], false, destroys, through + 1);
    return true;
  }

  private now(): DateTime {
    return this.clock.now().toUTC();
  }

  /**
   * ISO-8601 UTC from the clock's milliseconds: Date formats it several times faster than luxon. On the system clock,
   * Date.now() itself, skipping a luxon DateTime per record (2-8 us each in a micro-benchmark).
   */
  private isoNow(): string {
    return new Date(this.clock === systemClock ? Date.now() : this.clock.now().toMillis()).toISOString();
  }
}

function settler(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

export function recordPointer(seq: number): Pointer {
  return { namespace: AuditRecords.namespace, type: AuditRecords.type, id: auditRecordId(seq) };
}

function range(from: number, through: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= through; i++) out.push(i);
  return out;
}
