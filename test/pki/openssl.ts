// Real `openssl` as the independent judge of what src/pki produces. Files go to one temp dir per process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string | undefined;
let counter = 0;

/** Writes `content` to a fresh file in the shared temp dir and returns its path. */
export function tempFile(content: string | Buffer, suffix = '.pem'): string {
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), 'pki-test-'));
    // Not every file calls cleanupTempFiles: the last dir of a process goes when it exits.
    process.once('exit', cleanupTempFiles);
  }
  const path = join(dir, `f${counter++}${suffix}`);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

export function cleanupTempFiles(): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}

export interface OpensslResult {
  ok: boolean;
  out: string;
}

export function openssl(args: string[], input?: string | Buffer): OpensslResult {
  const r = spawnSync('openssl', args, { input, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/** `openssl x509 -noout -text`; throws when OpenSSL cannot read the certificate. */
export function x509Text(certPem: string): string {
  const r = openssl(['x509', '-noout', '-text', '-in', tempFile(certPem)]);
  if (!r.ok) throw new Error(`openssl x509 failed: ${r.out}`);
  return r.out;
}

/** `openssl verify -x509_strict -CAfile ca.pem [-purpose p] leaf.pem`, optionally at a given time. */
export function verifyStrict(caPem: string, leafPem: string, purpose?: 'sslclient' | 'sslserver', at?: Date): OpensslResult {
  const args = ['verify', '-x509_strict', '-CAfile', tempFile(caPem)];
  if (purpose) args.push('-purpose', purpose);
  if (at) args.push('-attime', String(Math.floor(at.getTime() / 1000)));
  args.push(tempFile(leafPem));
  return openssl(args);
}

/**
 * `openssl verify -CAfile ca.pem leaf.pem` without -x509_strict: for asking "did this CA sign it" of a CA that strict
 * mode refuses whatever the leaf (upstream's aggregator CA, with its empty subject).
 */
export function verifyPlain(caPem: string, leafPem: string): OpensslResult {
  return openssl(['verify', '-CAfile', tempFile(caPem), tempFile(leafPem)]);
}

/** OpenSSL's words for a leaf the given CA did not sign. */
export const NOT_ISSUED_BY = /unable to get local issuer certificate/;

export interface X509Info {
  text: string;
  serial: bigint;
  notBefore: Date;
  notAfter: Date;
  /** As `openssl x509 -fingerprint -sha256` prints it: upper-case, colon-separated. */
  sha256Fingerprint: string;
}

/** Serial, dates, SHA-256 fingerprint and `-text` of one certificate, from a single `openssl x509` run. */
export function x509Info(certPem: string): X509Info {
  const r = openssl(['x509', '-noout', '-serial', '-startdate', '-enddate', '-fingerprint', '-sha256', '-text', '-in', tempFile(certPem)]);
  if (!r.ok) throw new Error(`openssl x509 failed: ${r.out}`);
  const field = (name: string) => {
    const m = new RegExp(`^${name}=(.*)$`, 'm').exec(r.out);
    if (!m) throw new Error(`openssl x509 printed no ${name}: ${r.out}`);
    return m[1].trim();
  };
  return {
    text: r.out,
    serial: field('serial').startsWith('-') ? -BigInt('0x' + field('serial').slice(1)) : BigInt('0x' + field('serial')),
    notBefore: new Date(field('notBefore')),
    notAfter: new Date(field('notAfter')),
    sha256Fingerprint: field('sha256 Fingerprint'),
  };
}

/** `openssl storeutl -text` over many certificates in one run (subjects print as "CN=x,O=y"), in input order. */
export function x509TextBatch(certPems: string[]): string[] {
  const r = openssl(['storeutl', '-noout', '-text', '-certs', tempFile(certPems.join(''))]);
  if (!r.ok) throw new Error(`openssl storeutl failed: ${r.out}`);
  const parts = r.out.split(/^\d+: Certificate$/m).slice(1);
  if (parts.length !== certPems.length) throw new Error(`openssl storeutl printed ${parts.length} certificates, expected ${certPems.length}`);
  return parts;
}

/** `openssl verify -x509_strict` of many leaves against one CA in one run; one verdict per leaf, in order. */
export function verifyStrictBatch(caPem: string, leafPems: string[], purpose?: 'sslclient' | 'sslserver', at?: Date): { ok: boolean[]; out: string } {
  const args = ['verify', '-x509_strict', '-CAfile', tempFile(caPem)];
  if (purpose) args.push('-purpose', purpose);
  if (at) args.push('-attime', String(Math.floor(at.getTime() / 1000)));
  const paths = leafPems.map((p) => tempFile(p));
  const r = openssl([...args, ...paths]);
  return { ok: paths.map((p) => r.out.includes(`${p}: OK`)), out: r.out };
}

/** The lines under an extension's heading in `openssl x509 -text`, e.g. "X509v3 Key Usage". */
export function extensionText(text: string, heading: string): { critical: boolean; value: string } | undefined {
  const m = new RegExp(`${heading}:( critical)?\\s*\\n\\s*(.*)`).exec(text);
  return m ? { critical: !!m[1], value: m[2].trim() } : undefined;
}

/** Runs openssl with `files` written to the shared temp dir; `{name}` in args becomes that file's path. */
export function opensslFiles(args: string[], files: Record<string, string> = {}): OpensslResult {
  const paths = new Map(Object.entries(files).map(([name, text]) => [name, tempFile(text, `-${name}`)]));
  return openssl(args.map((a) => a.replace(/\{([^}]+)\}/g, (_, name: string) => paths.get(name) ?? name)));
}

/** Relabels Talos' non-standard `ED25519 PRIVATE KEY` so OpenSSL reads it. */
export function opensslKeyPem(pem: string): string {
  return pem.replace(/ED25519 PRIVATE KEY/g, 'PRIVATE KEY');
}
