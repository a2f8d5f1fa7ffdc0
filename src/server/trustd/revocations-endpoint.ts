// GET /v1/revocations (Bearer machine token): how workers learn the cluster's revocations, from the trustd they already
// trust for their certificate. A long poll: given `If-None-Match` with the list's current etag, the answer waits for
// the next change (or WAIT_MS, then 304), so a revocation reaches every worker within a round trip, without polling.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RevocationSpec } from '../../resources/revocations.js';
import type { RevokedSet } from '../revocation/index.js';
import { TrustdError } from './trustd-error.js';

export const REVOCATIONS_PATH = '/v1/revocations';
/** Real time an unchanged list is held open; workers ask again at once. Below the connection idle limits. */
export const WAIT_MS = 25_000;

export interface RevocationsAnswer {
  etag: string;
  revocations: RevocationSpec[];
}

export async function serveRevocations(req: IncomingMessage, res: ServerResponse, revoked: RevokedSet): Promise<void> {
  if (req.method !== 'GET') throw new TrustdError(405, `method ${req.method ?? '?'} not allowed: use GET ${REVOCATIONS_PATH}`);
  const known = req.headers['if-none-match']?.replace(/"/g, '');
  if (known === revoked.etag) {
    let timer: NodeJS.Timeout | undefined;
    const gone = new Promise<void>((resolve) => req.socket.once('close', resolve));
    await Promise.race([revoked.changed(), gone, new Promise<void>((resolve) => (timer = setTimeout(resolve, WAIT_MS)))]);
    clearTimeout(timer);
    if (req.socket.destroyed) return;
    if (known === revoked.etag) {
      res.writeHead(304, { ETag: `"${revoked.etag}"` });
      res.end();
      return;
    }
  }
  const body: RevocationsAnswer = { etag: revoked.etag, revocations: revoked.entries() };
  const text = JSON.stringify(body);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ETag: `"${revoked.etag}"` });
  res.end(text);
}
