// A kubeconfig with one cluster, one user and one context, certificates embedded as base64 PEM (as kubeadm writes them).
import { stringify } from 'yaml';

export interface KubeconfigInput {
  clusterName: string;
  server: string;
  caPem: string;
  userName: string;
  certPem: string;
  keyPem: string;
}

const b64 = (pem: string) => Buffer.from(pem).toString('base64');

export function formatKubeconfig(k: KubeconfigInput): string {
  const context = `${k.userName}@${k.clusterName}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: k.clusterName, cluster: { server: k.server, 'certificate-authority-data': b64(k.caPem) } }],
    users: [{ name: k.userName, user: { 'client-certificate-data': b64(k.certPem), 'client-key-data': b64(k.keyPem) } }],
    contexts: [{ name: context, context: { cluster: k.clusterName, user: k.userName } }],
    'current-context': context,
    preferences: {},
  });
}
