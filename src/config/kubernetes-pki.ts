// Imports a kubeadm PKI directory (/etc/kubernetes/pki) so a Talos cluster can take over existing Kubernetes CAs.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from './config-error.js';
import { caPairProblem, privateKeyProblem } from './pem-check.js';
import type { SuppliedSecrets } from './secrets-bundle-generate.js';
import type { PemCertAndKey } from './secrets-bundle.js';

const LAYOUT = 'expected kubeadm\'s layout: ca.crt/ca.key, etcd/ca.crt/ca.key, front-proxy-ca.crt/front-proxy-ca.key, sa.key';

/** `now`: the time the three CAs must be valid at (an imported CA that cannot sign is refused like any other). */
export async function readKubernetesPki(dir: string, now: Date): Promise<Required<Pick<SuppliedSecrets, 'k8s' | 'etcd' | 'k8sAggregator' | 'k8sServiceAccount'>>> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw new ConfigError('', `"${dir}" does not exist; pass the Kubernetes PKI directory (e.g. /etc/kubernetes/pki)`);
  if (!info.isDirectory()) throw new ConfigError('', `"${dir}" is not a directory`);

  const k8s = await readPair(dir, 'ca.crt', 'ca.key', now);
  const etcd = await readPair(dir, join('etcd', 'ca.crt'), join('etcd', 'ca.key'), now);
  const k8sAggregator = await readPair(dir, 'front-proxy-ca.crt', 'front-proxy-ca.key', now);
  const saPath = join(dir, 'sa.key');
  const saKey = await readText(saPath);
  const problem = privateKeyProblem(saKey);
  if (problem) throw new ConfigError(saPath, problem);
  return { k8s, etcd, k8sAggregator, k8sServiceAccount: { key: saKey } };
}

async function readPair(dir: string, crtName: string, keyName: string, now: Date): Promise<PemCertAndKey> {
  const pair = { crt: await readText(join(dir, crtName)), key: await readText(join(dir, keyName)) };
  const problem = caPairProblem(pair, now);
  if (problem) throw new ConfigError(join(dir, crtName), problem);
  return pair;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(path, code === 'ENOENT' ? `no such file (${LAYOUT})` : `cannot read: ${(err as Error).message}`);
  }
}
