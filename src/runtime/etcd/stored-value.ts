// The bytes this backend keeps in etcd: a resource row, and a change-log entry. Sealed (sensitive) specs are stored
// as base64 of the AEAD box, so no plaintext of them reaches etcd.
import type { EventKind, EventRow, ResourceRow, StoredSpec } from '../store/rows.js';

interface StoredRow {
  v: number;
  o: string;
  p: ResourceRow['phase'];
  m: string;
  s?: string;
  x?: string;
}

interface StoredEvent {
  r: number;
  k: EventKind;
  ns: string;
  t: string;
  id: string;
  m: string;
  s?: string;
  x?: string;
  om?: string;
  os?: string;
  ox?: string;
}

function specFields(spec: StoredSpec): { s?: string; x?: string } {
  return typeof spec === 'string' ? { s: spec } : { x: spec.toString('base64') };
}

function specOf(s: string | undefined, x: string | undefined): StoredSpec {
  return x !== undefined ? Buffer.from(x, 'base64') : (s ?? 'null');
}

export function encodeRow(row: ResourceRow): Buffer {
  const stored: StoredRow = { v: row.version, o: row.owner, p: row.phase, m: row.meta, ...specFields(row.spec) };
  return Buffer.from(JSON.stringify(stored));
}

export function decodeRow(value: Buffer): ResourceRow {
  const r = JSON.parse(value.toString()) as StoredRow;
  return { version: r.v, owner: r.o, phase: r.p, meta: r.m, spec: specOf(r.s, r.x) };
}

export function encodeEvent(e: EventRow): Buffer {
  // A sensitive type's event keeps the old metadata without the old spec (see ResourceWriter.append).
  const old = e.old_meta !== null ? { om: e.old_meta, ...(e.old_spec !== null ? prefixed(specFields(e.old_spec)) : {}) } : {};
  const stored: StoredEvent = { r: e.revision, k: e.kind, ns: e.namespace, t: e.type, id: e.id, m: e.meta, ...specFields(e.spec), ...old };
  return Buffer.from(JSON.stringify(stored));
}

export function decodeEvent(value: Buffer): EventRow {
  const e = JSON.parse(value.toString()) as StoredEvent;
  return {
    revision: e.r,
    kind: e.k,
    namespace: e.ns,
    type: e.t,
    id: e.id,
    meta: e.m,
    spec: specOf(e.s, e.x),
    old_meta: e.om ?? null,
    old_spec: e.os !== undefined || e.ox !== undefined ? specOf(e.os, e.ox) : null,
  };
}

function prefixed(f: { s?: string; x?: string }): { os?: string; ox?: string } {
  return f.x !== undefined ? { ox: f.x } : { os: f.s };
}
