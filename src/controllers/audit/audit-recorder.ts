// Appends records to the node's audit trail. Each append is one store transaction that creates the record and moves
// the head (compare-and-swap on the head's version), so two processes appending to one store (serve and a --state
// command, or control planes sharing etcd) never fork the chain: the loser re-reads the head and links after the
// winner. In a process, appends queue up so the head read stays valid. The head is signed every `signEvery` records
// and on a timer of the injected clock; retention prunes the oldest records and records that it did.
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
  retention?: AuditRetention;
  /** Where a failed append is reported (a record must never fail the operation it records). */
  onError?: (message: string, fields: Record<string, unknown>) => void;
}

const DEFAULT_SIGN_EVERY = 64;
const DEFAULT_SIGN_INTERVAL_MS = 60_000;
const DEFAULT_MAX_AGE_HOURS = 365 * 24;
const DEFAULT_MAX_COUNT = 100_000;
/** Pruning deletes at most this many records per transaction; the rest go on the next round. */
const PRUNE_BATCH = 1_000;
const MAX_ATTEMPTS = 8;

interface Head {
  seq: number;
  hash: string;
  first: number;
  /** The head resource as read, for the compare-and-swap; undefined before the first record. */
  resource?: Resource<AuditHeadSpec>;
}

export class AuditRecorder implements AuditSink {
  private readonly state: State;
  private readonly clock: Clock;
  private readonly signEvery: number;
  private readonly signIntervalMs: number;
  private readonly maxAgeMs: number;
  private readonly maxCount: number;
  private readonly onError: NonNullable<AuditRecorderOptions['onError']>;
  private queue: Promise<void> = Promise.resolve();
  private head: Head | undefined;
  private key: AuditSigningKey | undefined;
  private unsigned = 0;
  private cancelTimer: (() => void) | undefined;
  private closed = false;

  constructor(options: AuditRecorderOptions) {
    this.state = options.state;
    this.clock = options.clock ?? systemClock;
    this.signEvery = options.signEvery ?? DEFAULT_SIGN_EVERY;
    this.signIntervalMs = options.signIntervalMs ?? DEFAULT_SIGN_INTERVAL_MS;
    this.maxAgeMs = (options.retention?.maxAgeHours ?? DEFAULT_MAX_AGE_HOURS) * 3_600_000;
    this.maxCount = options.retention?.maxCount ?? DEFAULT_MAX_COUNT;
    if (!(this.signEvery >= 1) || !(this.signIntervalMs > 0) || !(this.maxAgeMs > 0) || !(this.maxCount >= 2)) {
      throw new RangeError(`audit: signEvery must be >= 1, signIntervalMs and maxAgeHours > 0, maxCount >= 2; got ${this.signEvery}, ${this.signIntervalMs}, ${this.maxAgeMs / 3_600_000}, ${this.maxCount}`);
    }
    this.onError = options.onError ?? (() => undefined);
  }

  record(event: AuditEvent): Promise<void> {
    return this.enqueue(`audit record (${event.action}) not written`, async () => {
      refuseSecrets(event.details);
      await this.append(event);
      this.unsigned++;
      if (this.unsigned >= this.signEvery) await this.sign();
      if (this.head && this.head.seq - this.head.first + 1 > this.maxCount) await this.prune();
    });
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

  /** Signs whatever is unsigned and prunes what retention drops; the timer's work, callable by tests. */
  tick(): Promise<void> {
    return this.enqueue('audit head not signed', async () => {
      if (this.unsigned > 0) await this.sign();
      await this.prune();
    });
  }

  /** Resolves once every record handed in so far is written (or reported as failed). */
  flushed(): Promise<void> {
    return this.queue;
  }

  /** Signs the unsigned tail, then stops the timer. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.enqueue('audit head not signed', async () => {
      if (this.unsigned > 0) await this.sign();
    });
    this.closed = true;
    this.cancelTimer?.();
  }

  private enqueue(failure: string, work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work).catch((err: unknown) => {
      // The head we hold may be what failed (a store reopened, a write by another process): read it afresh next time.
      this.head = undefined;
      this.onError(failure, { error: err instanceof Error ? err.message : String(err) });
    });
    this.queue = next;
    return next;
  }

  /** Links the record after the head, retrying from a fresh head when another writer got there first. */
  private async append(event: AuditEvent, extra: BatchOp[] = [], first?: number): Promise<AuditRecordSpec> {
    for (let attempt = 1; ; attempt++) {
      const head = (this.head ??= await this.readHead());
      const spec: AuditRecordSpec = {
        seq: head.seq + 1,
        prev: head.hash,
        time: this.now().toISO() ?? '',
        actor: event.actor,
        ...(event.source ? { source: event.source } : {}),
        action: event.action,
        details: event.details,
      };
      const hash = recordHash(spec);
      const next: AuditHeadSpec = { seq: spec.seq, hash, first: first ?? head.first };
      const record: BatchOp = { op: 'create', resource: { metadata: recordPointer(spec.seq), spec }, owner: AUDIT_OWNER };
      const moveHead: BatchOp = head.resource
        ? { op: 'update', resource: { ...head.resource, spec: next }, owner: AUDIT_OWNER }
        : { op: 'create', resource: { metadata: AUDIT_HEAD_POINTER, spec: next }, owner: AUDIT_OWNER };
      try {
        const written = await this.state.batch([...extra, record, moveHead]);
        this.head = { ...next, resource: written[written.length - 1] as Resource<AuditHeadSpec> };
        return spec;
      } catch (err) {
        const raced = isStateError(err, 'Conflict') || isStateError(err, 'AlreadyExists');
        this.head = undefined;
        if (!raced || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  private async readHead(): Promise<Head> {
    const found = await this.state.find<AuditHeadSpec>(AUDIT_HEAD_POINTER);
    return found ? { ...found.spec, resource: found } : { seq: 0, hash: GENESIS, first: 1 };
  }

  private async sign(): Promise<void> {
    this.key ??= await auditSigningKey(this.state);
    const key = this.key;
    this.head ??= await this.readHead();
    const { seq, hash } = this.head;
    if (seq === 0) return;
    const details: AuditDetails = { through: seq, hash, keyId: key.keyId, signature: signHead(key, seq, hash) };
    await this.append({ actor: AUDIT_OWNER, action: 'chain-signed', details });
    this.unsigned = 0;
  }

  /** Drops what retention no longer keeps, in one transaction with the record that says so. */
  private async prune(): Promise<void> {
    const head = (this.head ??= await this.readHead());
    const byCount = head.seq - this.maxCount + 1;
    const cutoff = this.now().toMillis() - this.maxAgeMs;
    const oldest = await this.state.find<AuditRecordSpec>(recordPointer(head.first));
    let through = Math.min(head.first + PRUNE_BATCH, head.seq) - 1;
    if (byCount <= head.first && !(oldest && Date.parse(oldest.spec.time) < cutoff)) return;
    const doomed = await this.state.list<AuditRecordSpec>(
      { namespace: AuditRecords.namespace, type: AuditRecords.type },
      { ids: range(head.first, through).map(auditRecordId) },
    );
    // By count: everything below byCount; by age: the leading run older than the cutoff.
    let last: Resource<AuditRecordSpec> | undefined;
    for (const r of doomed) {
      if (r.spec.seq >= byCount && Date.parse(r.spec.time) >= cutoff) break;
      last = r;
    }
    if (!last) return;
    through = last.spec.seq;
    const destroys: BatchOp[] = range(head.first, through).map((seq) => ({ op: 'destroy', pointer: recordPointer(seq), owner: AUDIT_OWNER }));
    const details: AuditDetails = { from: head.first, through, lastHash: recordHash(last.spec), count: through - head.first + 1 };
    await this.append({ actor: AUDIT_OWNER, action: 'pruned', details }, destroys, through + 1);
  }

  private now(): DateTime {
    return this.clock.now().toUTC();
  }
}

export function recordPointer(seq: number): Pointer {
  return { namespace: AuditRecords.namespace, type: AuditRecords.type, id: auditRecordId(seq) };
}

function range(from: number, through: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= through; i++) out.push(i);
  return out;
}
