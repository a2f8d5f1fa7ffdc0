// Real Talos data files: a `gen secrets` bundle and a kubeadm PKI directory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const FIXTURES = process.env.TALOS_FIXTURES ?? '/work/shared/fixtures/talos';

export interface FixtureBundle {
  os: { crt: string; key: string };
  etcd: { crt: string; key: string };
  k8s: { crt: string; key: string };
  k8saggregator: { crt: string; key: string };
  k8sserviceaccount: { key: string };
}

/** certs.* of secrets/secrets.yaml, base64-decoded to PEM text. */
export function fixtureBundle(): FixtureBundle {
  const doc = parse(readFileSync(join(FIXTURES, 'secrets/secrets.yaml'), 'utf8')) as { certs: Record<string, Record<string, string>> };
  const decoded = Object.fromEntries(
    Object.entries(doc.certs).map(([name, pair]) => [name, Object.fromEntries(Object.entries(pair).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))]),
  );
  return decoded as unknown as FixtureBundle;
}

export const kubernetesPki = (path: string): string => readFileSync(join(FIXTURES, 'kubernetes-pki', path), 'utf8');
