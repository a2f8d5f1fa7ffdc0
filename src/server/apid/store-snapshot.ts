// GET /v1/etcd/snapshot: a consistent copy of the node's store (os:etcd:backup, operator, admin). SQLite's
// `VACUUM INTO` from a second read-only connection copies one transaction's view while the node keeps writing.
// Sensitive specs stay sealed in the copy: the key file never leaves the node.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import type { State } from '../../runtime/state.js';
import { ApiError } from './api-error.js';
import { STREAMED, requirePermission } from './router.js';
import type { CallContext } from './router.js';

/** The store file behind a State, when it is one (the SQLite backend); etcd has its own snapshot tooling. */
function storeFile(state: State): string | undefined {
  const path = (state as { path?: unknown }).path;
  return typeof path === 'string' && path !== ':memory:' ? path : undefined;
}

export function snapshotCall(state: State) {
  return async (ctx: CallContext): Promise<unknown> => {
    requirePermission(ctx, 'etcdBackup');
    const file = storeFile(state);
    if (!file) throw new ApiError(501, 'this node\'s store is not a local SQLite file: take snapshots with the store\'s own tooling (etcdctl snapshot save)');
    const dir = await mkdtemp(join(tmpdir(), 'trustplane-snapshot-'));
    const copy = join(dir, 'state.db');
    try {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        db.prepare('VACUUM INTO ?').run(copy);
      } finally {
        db.close();
      }
      ctx.res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-disposition': 'attachment; filename="state.db"' });
      await pipeline(createReadStream(copy), ctx.res);
      return STREAMED;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
