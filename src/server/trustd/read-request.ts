// Reads trustd's request body, `{"csr": "<PEM>"}`, bounded in size; a bad body gets a 400 saying what is expected.
import type { IncomingMessage } from 'node:http';
import { TrustdError } from './trustd-error.js';

export const MAX_BODY_BYTES = 64 * 1024;
const EXPECTED = 'expected JSON {"csr": "<PEM certificate request>"}';

export async function readCsrRequest(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new TrustdError(413, `request body larger than ${MAX_BODY_BYTES} bytes: ${EXPECTED}`);
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new TrustdError(400, `request body: ${EXPECTED}: ${(err as Error).message}`);
  }
  const csr = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).csr : undefined;
  if (typeof csr !== 'string' || csr.length === 0) throw new TrustdError(400, `request body: "csr" is required: ${EXPECTED}`);
  return csr;
}
