// Reads trustd's request body, `{"csr": "<PEM>"}`, bounded in size; a bad body gets a 400 saying what is expected.
import type { IncomingMessage } from 'node:http';
import { TrustdError } from './trustd-error.js';

export const MAX_BODY_BYTES = 64 * 1024;
const EXPECTED = 'expected JSON {"csr": "<PEM certificate request>"}';

export async function readCsrRequest(req: IncomingMessage): Promise<string> {
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(new TrustdError(413, `request body larger than ${MAX_BODY_BYTES} bytes: ${EXPECTED}`)) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new TrustdError(400, `request body: ${EXPECTED}: ${(err as Error).message}`);
  }
  const csr = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).csr : undefined;
  if (typeof csr !== 'string' || csr.length === 0) throw new TrustdError(400, `request body: "csr" is required: ${EXPECTED}`);
  return csr;
}
