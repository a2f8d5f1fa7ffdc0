// curl and openssl s_client as independent mTLS clients of apid. Spawned asynchronously: the server runs in this
// process, so a synchronous spawn would block it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Answer, Credential } from './apid-harness.js';
import type { Call } from './apid-mtls-cases.js';

let dir: string | undefined;
let n = 0;
function file(content: string): string {
  if (!dir) {
    const made = mkdtempSync(join(tmpdir(), 'apid-clients-'));
    dir = made;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  const path = join(dir, `f${n++}.pem`);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

/** Runs a command to completion with `input` on stdin; resolves with its exit code and output. */
export function run(cmd: string, args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

const parse = (body: string, status: number): Answer => {
  let json: Answer['json'] = {};
  try {
    json = JSON.parse(body) as Answer['json'];
  } catch {
    // not JSON (a snapshot, say)
  }
  return { status, body, json };
};

export async function curlCall(port: number, caPem: string, cred: Credential, call: Call): Promise<Answer> {
  const args = ['-sS', '-X', call.method, '--cacert', file(caPem), '-w', '\n%{http_code}'];
  if (cred.crt && cred.key) args.push('--cert', file(cred.crt), '--key', file(cred.key));
  if (call.body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(call.body));
  args.push(`https://127.0.0.1:${port}${call.path}`);
  const r = await run('curl', args);
  if (r.code !== 0) throw new Error(`curl failed (${r.code}): ${r.stderr}`);
  const cut = r.stdout.lastIndexOf('\n');
  return parse(r.stdout.slice(0, cut), Number(r.stdout.slice(cut + 1)));
}

export async function opensslCall(port: number, caPem: string, cred: Credential, call: Call): Promise<Answer> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', file(caPem), '-verify_return_error', '-quiet'];
  if (cred.crt && cred.key) args.push('-cert', file(cred.crt), '-key', file(cred.key));
  const body = call.body === undefined ? '' : JSON.stringify(call.body);
  const head = [`${call.method} ${call.path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  if (body) head.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`);
  const r = await run('openssl', args, `${head.join('\r\n')}\r\n\r\n${body}`);
  const match = /HTTP\/1\.1 (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(r.stdout);
  if (!match) throw new Error(`openssl s_client gave no HTTP response (${r.code}): ${r.stdout}${r.stderr}`);
  return parse(match[3], Number(match[1]));
}
