// The first events of a new watch, built the same way by every backend from what it read in one snapshot: a replay
// of the retained history after a bookmark, the resource as it is now, or every resource of a kind then a marker.
import { InvalidBookmarkError, ValidationError } from '../errors.js';
import type { Resource } from '../resource.js';
import type { Bookmark, WatchEvent } from '../state.js';
import { replayable } from './event-history.js';
import type { EventRow } from './rows.js';
import type { SensitiveTypes, SpecCodec } from './spec-codec.js';
import { project } from './watch-projection.js';
import type { WatchTarget } from './watch-projection.js';

/**
 * Refuses a bookmark this store cannot resume from. `oldest` is the first revision still in the history (the
 * current revision + 1 when none is kept).
 */
export function checkBookmark(since: Bookmark, oldest: number, revision: number): void {
  if (!Number.isInteger(since) || since < 0) throw new ValidationError('since', `expected a bookmark (an integer >= 0), got ${since}`);
  if (since < oldest - 1) throw new InvalidBookmarkError(since, oldest);
  if (since > revision) {
    throw new InvalidBookmarkError(since, oldest, `bookmark ${since} is ahead of this store's revision ${revision}: it belongs to another store; list again and watch from the current revision`);
  }
}

/** The target's events among `rows` (the history after the bookmark, in order), without superseded secrets. */
export function replayEvents(target: WatchTarget, rows: readonly EventRow[], codec: SpecCodec, sensitive: SensitiveTypes): WatchEvent[] {
  const events: WatchEvent[] = [];
  for (const row of replayable(rows, sensitive)) {
    const event = project(target, codec.event(row));
    if (event) events.push(event);
  }
  return events;
}

/** A bootstrap: every resource as `created`, then `bootstrapped`, all at the snapshot's revision. */
export function bootstrapEvents(resources: readonly Resource[], revision: Bookmark): WatchEvent[] {
  const events: WatchEvent[] = resources.map((resource) => ({ type: 'created', resource, bookmark: revision }));
  events.push({ type: 'bootstrapped', bookmark: revision });
  return events;
}
