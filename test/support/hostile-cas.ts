// CAs that must be refused on the way in, made by `openssl req -x509` (an independent maker, not our own builder) or,
// for an expired one, by our createCA at a past time (OpenSSL 3.0 cannot backdate a self-signed certificate).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCA, encodePrivateKeyPem, generateKeyPairSync } from '../../src/pki/index.js';

export interface PemPair {
  crt: string;
  key: string;
}

export interface OpensslCaOptions {
  /** `-newkey` argument; default ec P-256. */
  newkey?: string;
  basicConstraints?: string;
  keyUsage?: string;
  /** `-days`; default 365. */
  days?: number;
}

export function opensslCA(options: OpensslCaOptions = {}): PemPair {
  const dir = mkdtempSync(join(tmpdir(), 'hostile-ca-'));
  try {
    const ext = [`basicConstraints = ${options.basicConstraints ?? 'critical,CA:TRUE'}`];
    if (options.keyUsage !== '') ext.push(`keyUsage = ${options.keyUsage ?? 'critical,digitalSignature,keyCertSign'}`);
    writeFileSync(join(dir, 'req.cnf'), ['[req]', 'distinguished_name = dn', 'x509_extensions = ext', 'prompt = no', '[dn]', 'O = talos', '[ext]', ...ext, ''].join('\n'));
    const newkey = options.newkey ?? 'ec';
    const args = ['req', '-x509', '-newkey', newkey, ...(newkey === 'ec' ? ['-pkeyopt', 'ec_paramgen_curve:P-256'] : [])];
    args.push('-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'crt.pem'), '-days', String(options.days ?? 365), '-config', join(dir, 'req.cnf'));
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
    return { crt: readFileSync(join(dir, 'crt.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A well-formed CA that ran out a day before `now`. */
export async function expiredCA(now: Date): Promise<PemPair> {
  const ca = await createCA('os', { now: new Date(now.getTime() - 48 * 3_600_000), validityHours: 24 });
  return { crt: ca.certPem, key: encodePrivateKeyPem(ca.key) };
}

/** Every kind of CA the validators refuse, with the words the refusal must contain. */
export async function hostileCAs(now: Date): Promise<{ name: string; pair: PemPair; says: RegExp }[]> {
  const good = opensslCA();
  return [
    { name: 'CA:FALSE', pair: opensslCA({ basicConstraints: 'critical,CA:FALSE', keyUsage: 'critical,digitalSignature' }), says: /is not a CA \(BasicConstraints CA:TRUE is missing\)/ },
    { name: 'no keyCertSign', pair: opensslCA({ keyUsage: 'critical,digitalSignature' }), says: /keyUsage lacks keyCertSign/ },
    { name: 'RSA-1024', pair: opensslCA({ newkey: 'rsa:1024' }), says: /RSA key of 1024 bits, too weak.*use RSA 2048 bits or more/ },
    { name: 'expired', pair: await expiredCA(now), says: /expired at .*give a CA that is valid now/ },
    { name: 'mismatched key', pair: { crt: good.crt, key: encodePrivateKeyPem(generateKeyPairSync('ecdsa')) }, says: /does not match/ },
  ];
}
