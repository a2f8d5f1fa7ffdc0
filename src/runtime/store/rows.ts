// The shapes of rows as better-sqlite3 returns them. A spec column holds JSON text, or a Buffer when it is sealed.
import type { Phase } from '../resource.js';

export type StoredSpec = string | Buffer;

export interface ResourceRow {
  version: number;
  owner: string;
  phase: Phase;
  meta: string;
  spec: StoredSpec;
}

export interface ListedRow {
  id: string;
  meta: string;
  spec: StoredSpec;
}

export type EventKind = 'created' | 'updated' | 'destroyed';

export interface EventRow {
  revision: number;
  kind: EventKind;
  namespace: string;
  type: string;
  id: string;
  meta: string;
  spec: StoredSpec;
  old_meta: string | null;
  old_spec: StoredSpec | null;
}
