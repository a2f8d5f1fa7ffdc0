// Generates control plane and worker machine configs from a secrets bundle, shaped like `talosctl gen config` output.
import { MachineConfig } from './machine-config.js';
import type { MachineType } from './machine-config.js';
import { encodeKeyField, encodePemField } from './pem-field.js';
import type { PemCertAndKey, SecretsBundle } from './secrets-bundle.js';

export const DEFAULT_KUBERNETES_VERSION = '1.34.1';
export const DEFAULT_TALOS_INSTALLER = 'ghcr.io/siderolabs/installer';

export interface GenerateMachineConfigOptions {
  type: MachineType;
  clusterName: string;
  /** The Kubernetes API endpoint, e.g. https://10.0.0.1:6443. */
  endpoint: string;
  kubernetesVersion?: string;
  /** Extra names for both the Talos API (machine.certSANs) and the Kubernetes API server certificates. */
  additionalSANs?: string[];
  installDisk?: string;
}

const pair = (p: PemCertAndKey, withKey: boolean) => ({ crt: encodePemField(p.crt), key: withKey ? encodeKeyField(p.key) : '' });

export function generateMachineConfig(bundle: SecretsBundle, options: GenerateMachineConfigOptions): MachineConfig {
  const controlPlane = options.type !== 'worker';
  const k8sVersion = `v${(options.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION).replace(/^v/, '')}`;
  const sans = options.additionalSANs ?? [];

  const machine: Record<string, unknown> = {
    type: options.type,
    token: bundle.trustdInfo.token,
    ca: pair(bundle.certs.os, controlPlane),
    certSANs: sans,
    kubelet: {
      image: `ghcr.io/siderolabs/kubelet:${k8sVersion}`,
      defaultRuntimeSeccompProfileEnabled: true,
      disableManifestsDirectory: true,
    },
    install: { ...(options.installDisk ? { disk: options.installDisk } : {}), wipe: false, grubUseUKICmdline: true },
    features: {
      diskQuotaSupport: true,
      kubePrism: { enabled: true, port: 7445 },
      hostDNS: { enabled: true, forwardKubeDNSToHost: true },
    },
  };
  if (controlPlane) machine.nodeLabels = { 'node.kubernetes.io/exclude-from-external-load-balancers': '' };

  const cluster: Record<string, unknown> = {
    id: bundle.cluster.id,
    secret: bundle.cluster.secret,
    controlPlane: { endpoint: options.endpoint },
    clusterName: options.clusterName,
    network: { dnsDomain: 'cluster.local', podSubnets: ['10.244.0.0/16'], serviceSubnets: ['10.96.0.0/12'] },
    token: bundle.secrets.bootstrapToken,
  };
  if (controlPlane) {
    if (bundle.secrets.secretboxEncryptionSecret) cluster.secretboxEncryptionSecret = bundle.secrets.secretboxEncryptionSecret;
    if (bundle.secrets.aescbcEncryptionSecret) cluster.aescbcEncryptionSecret = bundle.secrets.aescbcEncryptionSecret;
  }
  cluster.ca = pair(bundle.certs.k8s, controlPlane);
  if (controlPlane) Object.assign(cluster, controlPlaneSections(bundle, k8sVersion, sans));
  cluster.discovery = { enabled: true, registries: { kubernetes: { disabled: true }, service: {} } };
  if (controlPlane) cluster.etcd = { ca: pair(bundle.certs.etcd, true) };

  return MachineConfig.fromObjects({ version: 'v1alpha1', debug: false, persist: true, machine, cluster }, [
    { apiVersion: 'v1alpha1', kind: 'HostnameConfig', auto: 'stable' },
  ]);
}

function controlPlaneSections(bundle: SecretsBundle, k8sVersion: string, sans: string[]): Record<string, unknown> {
  return {
    aggregatorCA: pair(bundle.certs.k8sAggregator, true),
    serviceAccount: { key: encodePemField(bundle.certs.k8sServiceAccount.key) },
    apiServer: {
      image: `registry.k8s.io/kube-apiserver:${k8sVersion}`,
      ...(sans.length > 0 ? { certSANs: sans } : {}),
      admissionControl: [
        {
          name: 'PodSecurity',
          configuration: {
            apiVersion: 'pod-security.admission.config.k8s.io/v1alpha1',
            defaults: {
              audit: 'restricted',
              'audit-version': 'latest',
              enforce: 'baseline',
              'enforce-version': 'latest',
              warn: 'restricted',
              'warn-version': 'latest',
            },
            exemptions: { namespaces: ['kube-system'], runtimeClasses: [], usernames: [] },
            kind: 'PodSecurityConfiguration',
          },
        },
      ],
      auditPolicy: { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [{ level: 'Metadata' }] },
    },
    controllerManager: { image: `registry.k8s.io/kube-controller-manager:${k8sVersion}` },
    proxy: { image: `registry.k8s.io/kube-proxy:${k8sVersion}` },
    scheduler: { image: `registry.k8s.io/kube-scheduler:${k8sVersion}` },
  };
}
