// A JSON answer with its length: apid and trustd answer this way, errors included, so curl and scripts read one shape.
import type { ServerResponse } from 'node:http';

/** `text` is JSON already: handlers that cache their answer (apid's listings) or build it by hand (trustd) skip a stringify. */
export function sendJson(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
