// What a watcher sees of a committed change, the same for every backend: a single-resource or kind watch, an id
// prefix, and a label selector that turns entering and leaving into created/destroyed.
import { labelsMatch } from '../label-query.js';
import type { Metadata, Resource } from '../resource.js';
import type { LabelTerm, WatchEvent } from '../state.js';
import type { EventRow } from './rows.js';

export interface WatchTarget {
  namespace: string;
  type: string;
  /** Set for a single-resource watch. */
  id?: string;
  labels?: LabelTerm[];
  idPrefix?: string;
}

export interface DecodedEvent {
  row: EventRow;
  resource: Resource;
  old?: Resource;
  /** The metadata before an update, kept even when `old` is withheld (a sensitive type), so label selectors still work. */
  oldMetadata?: Metadata;
  /** The event as a watcher without a label selector sees it, built once. */
  plain?: WatchEvent;
}

export function kindKey(namespace: string, type: string): string {
  return `${namespace}\u0000${type}`;
}

/** What a watcher with this target sees of an event; a label selector turns entering and leaving into created/destroyed. */
export function project(target: WatchTarget, d: DecodedEvent): WatchEvent | undefined {
  const { row, resource, old, oldMetadata } = d;
  const bookmark = row.revision;
  if (target.id !== undefined) {
    if (row.id !== target.id) return undefined;
  } else if (target.idPrefix && !row.id.startsWith(target.idPrefix)) {
    return undefined;
  }
  // Watchers without a selector share one event object (events are read-only to watchers).
  if (!target.labels?.length) return (d.plain ??= row.kind === 'updated' && old ? { type: 'updated', resource, old, bookmark } : { type: row.kind, resource, bookmark });
  const matchesNow = labelsMatch(resource.metadata.labels, target.labels);
  if (row.kind !== 'updated') return matchesNow ? { type: row.kind, resource, bookmark } : undefined;
  const matchedBefore = oldMetadata !== undefined && labelsMatch(oldMetadata.labels, target.labels);
  if (matchesNow && matchedBefore) return old ? { type: 'updated', resource, old, bookmark } : { type: 'updated', resource, bookmark };
  if (matchesNow) return { type: 'created', resource, bookmark };
  if (matchedBefore) return { type: 'destroyed', resource, bookmark };
  return undefined;
}
