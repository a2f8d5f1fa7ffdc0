// `rotate-ca --with-secrets FILE`: the secrets bundle the cluster was generated from, checked before the rotation
// starts (it must be this cluster's, plain YAML) and rewritten at the end with the rotated CAs, so that the next
// `gen config --with-secrets FILE` makes nodes that can join. The write is atomic and 0600; the previous bundle is
// kept beside it as FILE.bak.
import { X509Certificate } from 'node:crypto';
import { copyFile, chmod, readFile } from 'node:fs/promises';
import { isAgeEncrypted } from '../config/age-header.js';
import { ConfigError, MultiError, formatSecretsBundleYaml, parseSecretsBundle, validateSecretsBundle } from '../config/index.js';
import type { PemCertAndKey, SecretsBundle } from '../config/index.js';
import type { RotatableCA } from '../resources/ca-rotation.js';
import { writeFileAtomic } from './files.js';

/** Where each CA sits in the bundle. */
export const BUNDLE_FIELD: Record<RotatableCA, keyof Pick<SecretsBundle['certs'], 'os' | 'k8s' | 'etcd' | 'k8sAggregator'>> = {
  os: 'os',
  kubernetes: 'k8s',
  etcd: 'etcd',
  aggregator: 'k8sAggregator',
};

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

/**
 * Reads and checks the bundle before anything changes: `osCaPem` is the cluster's OS CA (the talosconfig's). `path` is
 * as the user gave it, for messages; `at` is where it is (absolute against the command's directory).
 */
export async function readBundleForRotation(path: string, osCaPem: string, at: string = path): Promise<SecretsBundle> {
  let data: Buffer;
  try {
    data = await readFile(at);
  } catch (err) {
    throw new Error(`--with-secrets: cannot read "${path}": ${(err as Error).message}`);
  }
  if (isAgeEncrypted(data)) throw new Error(`--with-secrets: "${path}" is age-encrypted; rotate-ca rewrites the bundle in place, so decrypt it first (age -d) and encrypt the result again afterwards`);
  let bundle: SecretsBundle;
  try {
    bundle = validateSecretsBundle(parseSecretsBundle(data.toString('utf8'), path));
  } catch (err) {
    if (err instanceof MultiError || err instanceof ConfigError) throw new Error(`--with-secrets: secrets bundle "${path}" is invalid: ${err.message}`);
    throw err;
  }
  const mine = osCaPem.includes(bundle.certs.os.crt.trim()) || fingerprint(bundle.certs.os.crt) === fingerprint(osCaPem);
  if (!mine) {
    throw new Error(`--with-secrets: secrets bundle "${path}" is not this cluster's: its OS CA (${fingerprint(bundle.certs.os.crt)}) is not the CA of your talosconfig (${fingerprint(osCaPem)}); pass the bundle the cluster was generated from`);
  }
  return bundle;
}

/** The bundle with each rotated CA in place of the old one; every other secret is kept. */
export function withRotatedCAs(bundle: SecretsBundle, rotated: Partial<Record<RotatableCA, PemCertAndKey>>): SecretsBundle {
  const certs = { ...bundle.certs };
  for (const [kind, pair] of Object.entries(rotated) as [RotatableCA, PemCertAndKey][]) certs[BUNDLE_FIELD[kind]] = pair;
  return { ...bundle, certs };
}

/** Keeps the current file as `${path}.bak` (0600), then replaces it in one rename; answers the backup's path as given. */
export async function writeRotatedBundle(path: string, bundle: SecretsBundle, at: string = path): Promise<string> {
  await copyFile(at, `${at}.bak`);
  await chmod(`${at}.bak`, 0o600);
  await writeFileAtomic({ path: at, data: formatSecretsBundleYaml(bundle), mode: 0o600 });
  return `${path}.bak`;
}
