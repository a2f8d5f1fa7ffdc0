// A node (real SQLite file, manual clock started at the real time) with apid on 127.0.0.1 port 0, and client
// credentials of every kind the mTLS tests need: each role, an unknown CA, expired, not yet valid, serverAuth-only.
import https from 'node:https';
import { DateTime } from 'luxon';
import { issueClientCertificate } from '../../src/config/index.js';
import type { SecretsBundle } from '../../src/config/index.js';
import { caFromPem, encodePrivateKeyPkcs8Pem, generateKeyPairSync, generateSecretsBundleFor, issueCertificateAndKey, parsePrivateKeyPem } from './apid-pki.js';
import { startApid } from '../../src/server/apid/index.js';
import type { Apid, ApidOptions } from '../../src/server/apid/index.js';
import { NodeHarness, fixtureBundle } from '../controllers/node-harness.js';
import { opensslFiles, opensslKeyPem } from '../pki/openssl.js';
import type { HarnessOptions } from '../controllers/node-harness.js';

export interface Credential {
  name: string;
  /** PEM certificate and PKCS#8 key (OpenSSL and curl read PKCS#8 Ed25519; Talos's label they do not). */
  crt?: string;
  key?: string;
}

export type ApidExtras = Omit<ApidOptions, 'state' | 'registry' | 'host' | 'port' | 'clock'>;

export interface Answer {
  status: number;
  body: string;
  json: { error?: string } & Record<string, unknown>;
}

export class ApidHarness {
  private constructor(
    readonly node: NodeHarness,
    public apid: Apid,
    readonly bundle: SecretsBundle,
    private readonly extras: ApidExtras,
  ) {}

  /** `apid` options beyond the node's: the members it forwards to (other harnesses' addresses), its logger, limits. */
  static async start(options: Partial<HarnessOptions> & { apid?: ApidExtras } = {}): Promise<ApidHarness> {
    const bundle = options.bundle ?? fixtureBundle();
    const node = await NodeHarness.start({ addresses: ['127.0.0.1'], ...options, bundle, start: options.start ?? DateTime.utc() });
    const extras = options.apid ?? {};
    const apid = await ApidHarness.serve(node, 0, extras);
    return new ApidHarness(node, apid, bundle, extras);
  }

  private static async serve(node: NodeHarness, port: number, extras: ApidExtras): Promise<Apid> {
    const apid = await startApid({ state: node.node.state, registry: node.node.registry, host: '127.0.0.1', port, clock: node.clock, audit: node.node.audit, ...extras });
    await apid.ready;
    return apid;
  }

  /**
   * Stops apid (dropping every connection, watches included), runs `meanwhile` while it is down, and starts it again
   * on the same port.
   */
  async restartApid(meanwhile: () => Promise<void> = async () => undefined): Promise<void> {
    const port = this.apid.port;
    await this.apid.close();
    await meanwhile();
    this.apid = await ApidHarness.serve(this.node, port, this.extras);
  }

  get caPem(): string {
    return this.bundle.certs.os.crt;
  }

  get address(): string {
    return `127.0.0.1:${this.apid.port}`;
  }

  now(): Date {
    return new Date(this.node.clock.now().toMillis());
  }

  async role(...roles: string[]): Promise<Credential> {
    return credential(roles.join(','), await issueClientCertificate(this.bundle.certs.os, { roles: roles as never, now: this.now() }));
  }

  /** Every credential of the mTLS matrix, in a fixed order. */
  async matrixCredentials(): Promise<Credential[]> {
    const ca = caFromPem(this.bundle.certs.os.crt, this.bundle.certs.os.key);
    const other = await generateSecretsBundleFor(this.now());
    const dayMs = 86_400_000;
    const at = (offsetMs: number) => new Date(this.now().getTime() + offsetMs);
    return [
      { name: 'no certificate' },
      credential('unknown CA', await issueClientCertificate(other.certs.os, { roles: ['os:admin'], now: this.now() })),
      credential('expired', await issueClientCertificate(this.bundle.certs.os, { roles: ['os:admin'], validityHours: 1, now: at(-2 * dayMs) })),
      credential('not yet valid', await issueClientCertificate(this.bundle.certs.os, { roles: ['os:admin'], now: at(2 * dayMs) })),
      credential('serverAuth only', await serverAuthOnly(ca, this.now())),
      { name: 'unknown critical extension', ...unknownCriticalExtension(this.bundle.certs.os) },
      await this.role('os:reader'),
      await this.role('os:operator'),
      await this.role('os:admin'),
      await this.role('os:etcd:backup'),
    ];
  }

  /** One call on a fresh connection (no agent), so every call is judged by its own handshake. */
  request(cred: Credential, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    return callApid(this.apid.port, this.caPem, cred, method, path, body, headers);
  }

  async close(): Promise<void> {
    await this.apid.close();
    await this.node.destroy();
  }
}

export function credential(name: string, pair: { crt: string; key: string }): Credential {
  return { name, crt: pair.crt, key: encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(pair.key)) };
}

async function serverAuthOnly(ca: ReturnType<typeof caFromPem>, now: Date): Promise<{ crt: string; key: string }> {
  const issued = await issueCertificateAndKey(ca, 'node-server', { now, ipAddresses: ['127.0.0.1'], algorithm: ca.key.algorithm });
  return { crt: issued.certPem, key: issued.keyPem };
}

/** An os:admin client certificate from our OS CA that carries extension 1.2.3.4 marked critical (made by openssl). */
function unknownCriticalExtension(os: { crt: string; key: string }): { crt: string; key: string } {
  const key = encodePrivateKeyPkcs8Pem(generateKeyPairSync('ecdsa'));
  const csr = opensslFiles(['req', '-new', '-key', '{key}', '-subj', '/O=os:admin/CN=critical'], { key });
  const ext = 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n1.2.3.4=critical,ASN1:UTF8String:restricted\n';
  const crt = opensslFiles(['x509', '-req', '-in', '{csr}', '-CA', '{ca}', '-CAkey', '{cakey}', '-days', '1', '-set_serial', '7', '-extfile', '{ext}'], {
    csr: csr.out,
    ca: os.crt,
    cakey: opensslKeyPem(os.key),
    ext,
  });
  if (!crt.ok) throw new Error(`openssl x509 -req failed: ${crt.out}`);
  return { crt: crt.out.slice(crt.out.indexOf('-----BEGIN CERTIFICATE')), key };
}

/** A request body sent as it is (not JSON-encoded): bad JSON, `null`, duplicate or `__proto__` keys. */
export class RawBody {
  constructor(readonly text: string) {}
}

export function callApid(port: number, caPem: string, cred: Credential, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : body instanceof RawBody ? body.text : JSON.stringify(body);
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        ca: caPem,
        agent: false,
        ...(cred.crt ? { cert: cred.crt, key: cred.key } : {}),
        headers: { ...(text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}), ...headers },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data, json: parseJson(data) }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

function parseJson(text: string): Answer['json'] {
  try {
    return JSON.parse(text) as Answer['json'];
  } catch {
    return {};
  }
}

/**
 * Registers the hooks that start an apid harness (once for the enclosing describe, or before each test) with an
 * os:admin credential, and close it after; `use` receives both each time they are made.
 */
export function apidWithAdmin(use: (harness: ApidHarness, admin: Credential) => void, each: 'suite' | 'test' = 'suite'): void {
  let harness: ApidHarness | undefined;
  (each === 'test' ? beforeEach : before)(async () => {
    harness = await ApidHarness.start();
    use(harness, await harness.role('os:admin'));
  });
  (each === 'test' ? afterEach : after)(async () => harness?.close());
}
