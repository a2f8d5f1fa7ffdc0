// The State contract held once for every backend, as COSI's state core does: pointer and kind resolution, the write
// rules (through WriteRules), batches with the op named in a refusal, modify's retry loop, and the watch plans. A
// backend supplies reads, one transactional write, its watch delivery and close; it never re-states a rule.
import type { Observable } from 'rxjs';
import { NotFoundError, ValidationError } from '../errors.js';
import { modifyLoop } from '../modify-loop.js';
import type { Kind, NewResource, Pointer, Resource } from '../resource.js';
import type {
  BatchOp,
  Bookmark,
  DestroyOptions,
  ListOptions,
  ModifyResult,
  State,
  UpdateOptions,
  WatchEvent,
  WatchKindOptions,
  WatchOptions,
  WriteOptions,
} from '../state.js';
import type { WatchTarget } from './watch-projection.js';
import type { WriteContext, WriteRules } from './write-rules.js';

/** Where a new watch starts: its target, the bookmark it resumes after, and what it sees first without one. */
export interface WatchPlan {
  target: WatchTarget;
  since?: Bookmark;
  initial: 'current' | 'bootstrap' | 'none';
}

export abstract class StateCore implements State {
  abstract readonly encryptedAtRest: boolean;
  /** The write rules over this backend's RowStore; also resolves types and pointers for reads. */
  protected abstract readonly rules: WriteRules;

  /** The resource at a resolved pointer, or undefined. */
  protected abstract read<Spec>(pointer: Pointer): Promise<Resource<Spec> | undefined>;
  /** The resources of a resolved kind (`pointer.id` is '*'), in id order. */
  protected abstract readKind<Spec>(kind: Pointer, options: ListOptions): Promise<Resource<Spec>[]>;
  /**
   * Runs `fn` as one transaction that commits every row and event it wrote, or none. `pointers` are the resources
   * it may touch (a backend that reads before it writes reads these).
   */
  protected abstract transact<T>(pointers: Pointer[], fn: (ctx: WriteContext, rules: WriteRules) => T): Promise<T>;
  /** Starts a watch: its initial events as the plan says, then live ones; errors go to the Observable. */
  protected abstract observe<Spec>(plan: () => WatchPlan): Observable<WatchEvent<Spec>>;
  protected abstract assertOpen(): void;

  abstract revision(): Promise<Bookmark>;
  abstract verifySealing(): Promise<void>;
  abstract close(): Promise<void>;

  async get<Spec = unknown>(pointer: Pointer): Promise<Resource<Spec>> {
    const found = await this.find<Spec>(pointer);
    if (!found) throw new NotFoundError(this.rules.locate(pointer, 'pointer').what);
    return found;
  }

  async find<Spec = unknown>(pointer: Pointer): Promise<Resource<Spec> | undefined> {
    this.assertOpen();
    return this.read<Spec>(this.rules.locate(pointer, 'pointer').pointer);
  }

  async list<Spec = unknown>(kind: Kind, options: ListOptions = {}): Promise<Resource<Spec>[]> {
    this.assertOpen();
    return this.readKind<Spec>(this.rules.locate({ ...kind, id: '*' }, 'kind').pointer, options);
  }

  async create<Spec = unknown>(resource: NewResource<Spec>, options: WriteOptions = {}): Promise<Resource<Spec>> {
    return (await this.transact([resource.metadata], (ctx, w) => w.create(ctx, resource, options.owner ?? ''))) as Resource<Spec>;
  }

  async update<Spec = unknown>(resource: Resource<Spec>, options: UpdateOptions = {}): Promise<Resource<Spec>> {
    return (await this.transact([resource.metadata], (ctx, w) => w.update(ctx, resource, options))) as Resource<Spec>;
  }

  async destroy(pointer: Pointer, options: DestroyOptions = {}): Promise<void> {
    await this.transact([pointer], (ctx, w) => w.destroy(ctx, pointer, options.owner ?? '', options.expectedVersion));
  }

  async teardown(pointer: Pointer, options: WriteOptions = {}): Promise<boolean> {
    return this.transact([pointer], (ctx, w) => w.teardown(ctx, pointer, options.owner ?? ''));
  }

  async addFinalizer(pointer: Pointer, ...finalizers: string[]): Promise<Resource> {
    return this.transact([pointer], (ctx, w) => w.addFinalizers(ctx, pointer, finalizers));
  }

  async removeFinalizer(pointer: Pointer, ...finalizers: string[]): Promise<Resource> {
    return this.transact([pointer], (ctx, w) => w.removeFinalizers(ctx, pointer, finalizers));
  }

  async modify<Spec = unknown>(
    pointer: Pointer,
    mutate: (current: Resource<Spec> | undefined) => ModifyResult<Spec> | undefined,
    options: UpdateOptions = {},
  ): Promise<Resource<Spec> | undefined> {
    const { def, pointer: p } = this.rules.locate(pointer, 'pointer');
    return modifyLoop<Spec>(this, def, p, mutate, options);
  }

  async batch(ops: BatchOp[]): Promise<Resource[]> {
    const pointers = ops.map((op) => (op.op === 'destroy' ? op.pointer : op.resource.metadata));
    return this.transact(pointers, (ctx, w) =>
      ops.map((op, i) => {
        try {
          switch (op.op) {
            case 'create':
              return w.create(ctx, op.resource, op.owner ?? '');
            case 'update':
              return w.update(ctx, op.resource, { owner: op.owner });
            case 'destroy':
              return w.destroy(ctx, op.pointer, op.owner ?? '', op.expectedVersion);
          }
        } catch (err) {
          if (err instanceof Error) err.message = `batch op ${i} (${op.op}): ${err.message}`;
          throw err;
        }
      }),
    );
  }

  watch<Spec = unknown>(pointer: Pointer, options: WatchOptions = {}): Observable<WatchEvent<Spec>> {
    return this.observe<Spec>(() => {
      const { pointer: p } = this.rules.locate(pointer, 'pointer');
      return { target: { namespace: p.namespace, type: p.type, id: p.id }, since: options.since, initial: 'current' };
    });
  }

  watchKind<Spec = unknown>(kind: Kind, options: WatchKindOptions = {}): Observable<WatchEvent<Spec>> {
    return this.observe<Spec>(() => {
      if (options.bootstrap && options.since !== undefined) {
        throw new ValidationError('since', 'cannot be combined with bootstrap: resume from a bookmark, or bootstrap from the current state');
      }
      const { pointer: p } = this.rules.locate({ ...kind, id: '*' }, 'kind');
      const target: WatchTarget = { namespace: p.namespace, type: p.type, labels: options.labels, idPrefix: options.idPrefix };
      return { target, since: options.since, initial: options.bootstrap ? 'bootstrap' : 'none' };
    });
  }
}
