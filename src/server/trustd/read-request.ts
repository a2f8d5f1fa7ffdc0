// Reads trustd's request body, `{"csr": "<PEM>"}`, bounded in size; a bad body gets a 400 saying what is expected.
import type { IncomingMessage } from 'node:http';
import { JsonBodyError, parseJsonObject } from '../json-object.js';
import { TrustdError } from './trustd-error.js';

export const MAX_BODY_BYTES = 64 * 1024;
const EXPECTED = 'expected JSON {"csr": "<PEM certificate request>"}';

export async function readCsrRequest(req: IncomingMessage): Promise<string> {
  const csr = (await readJsonRequest(req, EXPECTED)).csr;
  if (typeof csr !== 'string' || csr.length === 0) throw new TrustdError(400, `request body: "csr" is required: ${EXPECTED}`);
  return csr;
}

/** The request body as a JSON object; `expected` (what the endpoint takes) ends every error about it. */
export async function readJsonRequest(req: IncomingMessage, expected: string): Promise<Record<string, unknown>> {
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(new TrustdError(413, `request body larger than ${MAX_BODY_BYTES} bytes: ${expected}`)) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
  try {
    return parseJsonObject(text);
  } catch (err) {
    if (err instanceof JsonBodyError) throw new TrustdError(400, `request body ${err.message}: ${expected}`);
    throw err;
  }
}
