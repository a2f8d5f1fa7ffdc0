// Reads an apid watch stream line by line until the test has what it waits for, then hangs up.
import https from 'node:https';
import type { Credential } from './apid-harness.js';

export interface StreamLine {
  type: string;
  bookmark?: number;
  error?: string;
  code?: string;
  resource?: { metadata: { id: string; type: string; version: number }; spec: Record<string, unknown> };
}

export interface StreamResult {
  status: number;
  lines: StreamLine[];
  body: string;
}

/** Collects lines until `enough(lines)` holds (or the server ends the stream). */
export function readWatch(port: number, caPem: string, cred: Credential, path: string, enough: (lines: StreamLine[]) => boolean, headers: Record<string, string> = {}): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, ca: caPem, cert: cred.crt, key: cred.key, agent: false, headers }, (res) => {
      const lines: StreamLine[] = [];
      let buffer = '';
      let body = '';
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        req.destroy();
        resolve({ status: res.statusCode ?? 0, lines, body });
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (res.statusCode !== 200) return;
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          lines.push(JSON.parse(buffer.slice(0, nl)) as StreamLine);
          buffer = buffer.slice(nl + 1);
        }
        if (enough(lines)) finish();
      });
      res.on('end', finish);
      res.on('error', (err) => (finished ? undefined : reject(err)));
    });
    req.on('error', (err) => reject(err));
    req.end();
  });
}

export interface HeldWatch {
  status: number;
  /** The body of a refusal (empty while the stream is open). */
  body: string;
  close(): void;
}

/** Opens a watch and keeps it open once its first line has arrived (or resolves with the refusal's status and body). */
export function holdWatch(port: number, caPem: string, cred: Credential, path: string): Promise<HeldWatch> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, ca: caPem, cert: cred.crt, key: cred.key, agent: false }, (res) => {
      const close = () => req.destroy();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (res.statusCode === 200 && body.includes('\n')) resolve({ status: 200, body: '', close });
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, close }));
      res.on('error', () => undefined);
    });
    req.on('error', reject);
    req.end();
  });
}
