// The State contract every backend (SQLite now, etcd later) implements and the conformance suite checks.
// All calls are async so a networked backend fits the same shape.
import type { Observable } from 'rxjs';
import type { Kind, NewResource, Pointer, Resource } from './resource.js';

/** A store-wide, strictly increasing revision. Every write bumps it; every watch event carries the one it made. */
export type Bookmark = number;

/** A label selector term; all terms of a query must hold. */
export type LabelTerm =
  | { key: string; op: 'equal'; value: string }
  | { key: string; op: 'notEqual'; value: string }
  | { key: string; op: 'exists' }
  | { key: string; op: 'notExists' }
  | { key: string; op: 'in'; values: string[] };

export interface ListOptions {
  labels?: LabelTerm[];
  /** Only these ids. */
  ids?: string[];
  /** Only ids starting with this prefix. */
  idPrefix?: string;
}

/** Who writes. Controllers pass their name; users (CLI, API) pass ''. The store refuses writes by a non-owner. */
export interface WriteOptions {
  owner?: string;
}

export interface UpdateOptions extends WriteOptions {
  /** Allow updating a resource in phase tearingDown (its owner finishing teardown). */
  allowTearingDown?: boolean;
}

export interface DestroyOptions extends WriteOptions {
  /** Destroy only if the resource is still at this version. */
  expectedVersion?: number;
}

export type WatchEventType = 'created' | 'updated' | 'destroyed' | 'bootstrapped' | 'bookmark';

export interface WatchEvent<Spec = unknown> {
  type: WatchEventType;
  /**
   * The resource after the change (for destroyed: as it was when destroyed, except that a sensitive type's spec is
   * not kept: null). Absent on bootstrapped/bookmark.
   */
  resource?: Resource<Spec>;
  /**
   * The resource before the change, for updated events of a type that is not sensitive: no superseded secret is kept.
   * A watch resumed from a bookmark replays a sensitive resource only by its newest event.
   */
  old?: Resource<Spec>;
  /** The store revision this event was produced at; resume a watch from it with `since`. */
  bookmark: Bookmark;
}

export interface WatchOptions {
  /**
   * Resume after this bookmark: every change with a greater revision is delivered, in order, then live changes.
   * A bookmark older than the retained history errors the Observable with InvalidBookmarkError.
   */
  since?: Bookmark;
}

export interface WatchKindOptions extends WatchOptions {
  /** First emit every existing resource as `created`, then a `bootstrapped` marker, then live changes. */
  bootstrap?: boolean;
  labels?: LabelTerm[];
  idPrefix?: string;
}

export type BatchOp =
  | { op: 'create'; resource: NewResource; owner?: string }
  | { op: 'update'; resource: Resource; owner?: string }
  | { op: 'destroy'; pointer: Pointer; owner?: string; expectedVersion?: number };

export interface State {
  get<Spec = unknown>(pointer: Pointer): Promise<Resource<Spec>>;
  /** Like get, but undefined instead of NotFoundError. */
  find<Spec = unknown>(pointer: Pointer): Promise<Resource<Spec> | undefined>;
  list<Spec = unknown>(kind: Kind, options?: ListOptions): Promise<Resource<Spec>[]>;

  create<Spec = unknown>(resource: NewResource<Spec>, options?: WriteOptions): Promise<Resource<Spec>>;
  /** Compare-and-swap: `resource.metadata.version` must equal the stored version; the result has version + 1. */
  update<Spec = unknown>(resource: Resource<Spec>, options?: UpdateOptions): Promise<Resource<Spec>>;
  /** Refused with PhaseConflictError while finalizers are pending. */
  destroy(pointer: Pointer, options?: DestroyOptions): Promise<void>;
  /** Moves the resource to phase tearingDown (idempotent); returns true when no finalizers are left. */
  teardown(pointer: Pointer, options?: WriteOptions): Promise<boolean>;
  addFinalizer(pointer: Pointer, ...finalizers: string[]): Promise<Resource>;
  removeFinalizer(pointer: Pointer, ...finalizers: string[]): Promise<Resource>;
  /**
   * Read-modify-write that retries on conflict. `mutate` gets the current resource (undefined when absent) and returns
   * the new spec (plus optional labels/annotations); returning undefined leaves the store untouched.
   */
  modify<Spec = unknown>(
    pointer: Pointer,
    mutate: (current: Resource<Spec> | undefined) => ModifyResult<Spec> | undefined,
    options?: UpdateOptions,
  ): Promise<Resource<Spec> | undefined>;
  /** Applies every op or none; watchers see the whole batch, in order, with consecutive bookmarks. */
  batch(ops: BatchOp[]): Promise<Resource[]>;

  /**
   * Changes of one resource. Without `since`, first emits its current state as `created` (when it exists, bookmarked
   * at the current revision), then its changes. Event objects are shared between watchers: treat them as read-only.
   */
  watch<Spec = unknown>(pointer: Pointer, options?: WatchOptions): Observable<WatchEvent<Spec>>;
  /**
   * Changes of one kind: live changes only, unless `bootstrap` or `since` says where to start. With a label selector,
   * an update that makes a resource match arrives as `created` and one that makes it stop matching as `destroyed`.
   */
  watchKind<Spec = unknown>(kind: Kind, options?: WatchKindOptions): Observable<WatchEvent<Spec>>;

  /**
   * Reads every stored spec of a sensitive type, current and in the retained history, and throws IntegrityError naming
   * the first one this store's key did not seal for its resource (a store edited, or a snapshot forged, without it).
   */
  verifySealing(): Promise<void>;

  /** The latest revision written. */
  revision(): Promise<Bookmark>;
  /** Whether sensitive specs are encrypted at rest (reported by SecurityStatus). */
  readonly encryptedAtRest: boolean;
  close(): Promise<void>;
}

export interface ModifyResult<Spec> {
  spec: Spec;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
