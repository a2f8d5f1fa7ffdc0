// The trustctl side of apid: an HTTPS client with mutual TLS built from a talosconfig context (its CA, client
// certificate and key), talking to one endpoint and addressing other nodes through it (`-n`, forwarded by the endpoint).
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { contextCredentials, readTalosconfigFile, resolveTalosconfigPath, selectContext } from '../config/index.js';
import { encodePrivateKeyPkcs8Pem, parseCertificatePem, parsePrivateKeyPem, serverNameFor } from '../pki/index.js';
import { NODE_HEADER, formatNodeAddress, parseNodeAddress } from '../server/apid/index.js';
import type { NodeAddress, WatchLine } from '../server/apid/index.js';
import { inCwd } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { clientCertificateSymptom, serverCertificateSymptom } from './tls-symptoms.js';

export interface RemoteTarget {
  talosconfig?: string;
  context?: string;
  /** -e: overrides the context's endpoints. */
  endpoints?: string[];
  /** -n: overrides the context's nodes. */
  nodes?: string[];
}

/** An API refusal or failure: the HTTP status (0 for a connection that failed) and the server's message. */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** `InvalidBookmark` when a watch must list again. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

export interface Connection {
  client: ApiClient;
  /** The nodes to ask; empty means the endpoint itself. */
  nodes: string[];
  context: string;
  /** The client certificate's expiry, for messages. */
  notAfter: Date;
}

export const EXPIRY_WARNING_DAYS = 30;

/** What connecting reads (the talosconfig: $TALOSCONFIG, HOME, relative paths) and where it warns. */
export type ConnectIo = Pick<CliIo, 'env' | 'cwd' | 'stderr'>;

/** Reads the talosconfig, warns on stderr when its certificate expires within 30 days, and opens a client. */
export async function connectApi(target: RemoteTarget, io: ConnectIo, now = new Date()): Promise<Connection> {
  const path = resolveTalosconfigPath(target.talosconfig, io.env);
  const config = await readTalosconfigFile(path, inCwd(io, path));
  if (Object.keys(config.contexts).length === 0)
    throw new Error(`talosconfig "${path}" has no contexts: make one with \`trustctl gen config\` (or \`trustctl config new\`), or pass --state DIR to read a local node`);
  const { name, context } = selectContext(config, target.context || config.context);
  const creds = contextCredentials(name, context);
  for (const [field, value] of [['ca', creds.caPem], ['crt', creds.crtPem], ['key', creds.keyPem]] as const)
    if (!value) throw new Error(`talosconfig "${path}": contexts.${name}.${field} is empty; the API needs the CA, a client certificate and its key`);
  const endpoints = target.endpoints?.length ? target.endpoints : context.endpoints;
  if (endpoints.length === 0) throw new Error(`no endpoint: pass -e ENDPOINT or set endpoints in talosconfig context "${name}"`);
  const notAfter = new Date(parseCertificatePem(creds.crtPem, `contexts.${name}.crt`).validTo);
  const warning = expiryWarning(name, notAfter, now);
  if (warning) io.stderr.write(`${warning}\n`);
  const client = new ApiClient(parseNodeAddress(endpoints[0]), {
    ca: creds.caPem,
    cert: creds.crtPem,
    key: encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(creds.keyPem, `contexts.${name}.key`)),
  });
  return { client, nodes: target.nodes?.length ? target.nodes : context.nodes, context: name, notAfter };
}

/** The stderr warning for a client certificate that expires within 30 days (or has expired). */
export function expiryWarning(context: string, notAfter: Date, now: Date): string | undefined {
  const left = notAfter.getTime() - now.getTime();
  const day = notAfter.toISOString().slice(0, 10);
  const renew = 'get a new one with `trustctl config new` (or ask an admin)';
  if (left <= 0) return `warning: the client certificate of talosconfig context "${context}" expired on ${day}; the API will refuse it: ${renew}`;
  if (left > EXPIRY_WARNING_DAYS * 86_400_000) return undefined;
  const days = Math.floor(left / 86_400_000);
  const when = days === 0 ? 'in less than a day' : `in ${days} day${days === 1 ? '' : 's'}`;
  return `warning: the client certificate of talosconfig context "${context}" expires ${when} (${day}); ${renew}`;
}

export interface CallOptions {
  body?: unknown;
  /** Ask this node (forwarded by the endpoint) rather than the endpoint itself. */
  node?: string;
}

export interface WatchHandle {
  /** Resolves when the server ends the stream or close() is called; rejects with ApiCallError on refusal or failure. */
  done: Promise<void>;
  close(): void;
}

export class ApiClient {
  private readonly agent: https.Agent;

  constructor(
    readonly endpoint: NodeAddress,
    tls: { ca: string; cert: string; key: string },
  ) {
    this.agent = new https.Agent({ keepAlive: true, ...tls });
  }

  /** A JSON call; a non-2xx answer throws ApiCallError with the server's message. */
  async call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const res = await this.send(method, path, options);
    const text = (await readAll(res)).toString('utf8');
    if (!ok(res)) throw refusal(res, text);
    return JSON.parse(text) as T;
  }

  async download(path: string, options: CallOptions = {}): Promise<Buffer> {
    const res = await this.send('GET', path, options);
    const data = await readAll(res);
    if (!ok(res)) throw refusal(res, data.toString('utf8'));
    return data;
  }

  /** One watch connection: calls `onLine` per event line. */
  watch(path: string, onLine: (line: WatchLine) => void, options: CallOptions = {}): WatchHandle {
    return this.stream<WatchLine>(path, onLine, options, 'watch');
  }

  /** One streamed answer of newline-delimited JSON (a watch, a log stream): calls `onLine` per line. */
  stream<Line>(path: string, onLine: (line: Line) => void, options: CallOptions = {}, what = 'stream'): WatchHandle {
    let request: ReturnType<typeof https.request> | undefined;
    let closed = false;
    const done = new Promise<void>((resolve, reject) => {
      request = this.request('GET', path, options, (res) => {
        if (!ok(res)) {
          readAll(res).then((b) => reject(refusal(res, b.toString('utf8'))), reject);
          return;
        }
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            if (line) onLine(JSON.parse(line) as Line);
          }
        });
        res.on('end', () => resolve());
        res.on('error', (err) => (closed ? resolve() : reject(connectionError(this.endpoint, err))));
        res.on('close', () => (closed || res.complete ? resolve() : reject(new ApiCallError(0, `${formatNodeAddress(this.endpoint)}: the ${what} connection was dropped`))));
      });
      request.on('error', (err) => (closed ? resolve() : reject(connectionError(this.endpoint, err))));
      request.end();
    });
    return {
      done,
      close: () => {
        closed = true;
        request?.destroy();
      },
    };
  }

  close(): void {
    this.agent.destroy();
  }

  private send(method: string, path: string, options: CallOptions): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const body = options.body === undefined ? undefined : JSON.stringify(options.body);
      const req = this.request(method, path, { ...options, ...(body ? { json: body } : {}) }, resolve);
      req.on('error', (err) => reject(connectionError(this.endpoint, err)));
      req.end(body);
    });
  }

  private request(method: string, path: string, options: CallOptions & { json?: string }, onResponse: (res: IncomingMessage) => void) {
    const headers: Record<string, string | number> = {};
    if (options.node) headers[NODE_HEADER] = options.node;
    if (options.json) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(options.json) });
    const { host, port } = this.endpoint;
    return https.request({ host, port, method, path, agent: this.agent, headers, ...serverNameFor(host) }, onResponse);
  }
}

const ok = (res: IncomingMessage) => (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;

function refusal(res: IncomingMessage, text: string): ApiCallError {
  let message = text.trim() || `HTTP ${res.statusCode}`;
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') message = parsed.error;
  } catch {
    // not JSON: keep the text
  }
  const status = res.statusCode ?? 0;
  return new ApiCallError(status, clientCertificateSymptom(status, message) ?? message, status === 410 ? 'InvalidBookmark' : undefined);
}

/** In the Talos docs' words (Go's x509 errors) with what to do, where Node's TLS has only OpenSSL's. */
function connectionError(endpoint: NodeAddress, err: Error): ApiCallError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const symptom = serverCertificateSymptom(code);
  if (symptom) return new ApiCallError(0, `${symptom}\n    (endpoint ${formatNodeAddress(endpoint)})`);
  // `gen config https://controlplane:6443` writes `controlplane` as the endpoint, a name often known only to the nodes
  const unresolved = code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? ": the name does not resolve from this machine: set the nodes' addresses with `trustctl config endpoint <address>...` (or pass -e)" : '';
  return new ApiCallError(0, `endpoint ${formatNodeAddress(endpoint)}: ${err.message}${unresolved}`);
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
