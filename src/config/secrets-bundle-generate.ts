// Generates a secrets bundle (`gen secrets`): fresh CAs, tokens and secrets, keeping any part supplied by the caller
// (a Kubernetes PKI import supplies the k8s, etcd and aggregator CAs and the service-account key).
import { createCA, encodePrivateKeyPem, generateKeyPair } from '../pki/index.js';
import type { CaProfile, KeyAlgorithm } from '../pki/index.js';
import { randomClusterId, randomSecret, randomToken } from './random-token.js';
import type { PemCertAndKey, PemKey, SecretsBundle } from './secrets-bundle.js';
import type { NewCA } from './token-cas.js';

export const CA_VALIDITY_HOURS = 87600;

export interface SuppliedSecrets {
  etcd?: PemCertAndKey;
  k8s?: PemCertAndKey;
  k8sAggregator?: PemCertAndKey;
  k8sServiceAccount?: PemKey;
  os?: PemCertAndKey;
  bootstrapToken?: string;
}

export interface GenerateSecretsOptions {
  now?: Date;
  /** Key algorithm of the OS (Talos API) CA; default ecdsa (upstream uses ed25519). */
  osCAAlgorithm?: KeyAlgorithm;
  /** Service-account signing key; default ecdsa P-256, rsa gives RSA-4096 (older Talos default). */
  serviceAccountAlgorithm?: 'ecdsa' | 'rsa';
  /** Write the pre-1.3 aescbc encryption secret instead of secretbox. */
  legacyEncryption?: boolean;
  supplied?: SuppliedSecrets;
  /** Makes each new CA; default: a fresh key in memory. tokenCaMaker puts the keys in a PKCS#11 token. */
  newCA?: NewCA;
  /** Called before each slow step, so the CLI can show what it is waiting for. */
  onStep?: (step: string) => void;
}

const RSA_BITS = 4096;

async function newMemoryCA(profile: CaProfile, algorithm: KeyAlgorithm, now: Date): Promise<PemCertAndKey> {
  // RSA CAs get 4096-bit keys, generated here so the size does not depend on the pki default.
  const key = algorithm === 'rsa' ? await generateKeyPair('rsa', { rsaBits: RSA_BITS }) : undefined;
  const ca = await createCA(profile, { algorithm, now, validityHours: CA_VALIDITY_HOURS, ...(key ? { key } : {}) });
  return { crt: ca.certPem, key: encodePrivateKeyPem(ca.key) };
}

export async function generateSecretsBundle(options: GenerateSecretsOptions = {}): Promise<SecretsBundle> {
  const now = options.now ?? new Date();
  const supplied = options.supplied ?? {};
  const step = options.onStep ?? (() => undefined);
  const osAlgorithm = options.osCAAlgorithm ?? 'ecdsa';
  const newCA = options.newCA ?? newMemoryCA;

  step('generating the etcd CA');
  const etcd = supplied.etcd ?? (await newCA('etcd', 'ecdsa', now));
  step('generating the Kubernetes CA');
  const k8s = supplied.k8s ?? (await newCA('kubernetes', 'ecdsa', now));
  step('generating the Kubernetes aggregator CA');
  const k8sAggregator = supplied.k8sAggregator ?? (await newCA('aggregator', 'ecdsa', now));
  step(options.serviceAccountAlgorithm === 'rsa' ? 'generating the service-account key (RSA-4096)' : 'generating the service-account key');
  const k8sServiceAccount = supplied.k8sServiceAccount ?? (await newServiceAccountKey(options.serviceAccountAlgorithm ?? 'ecdsa'));
  step(`generating the OS CA (${osAlgorithm})`);
  const os = supplied.os ?? (await newCA('os', osAlgorithm, now));

  const encryption = randomSecret();
  return {
    cluster: { id: randomClusterId(), secret: randomSecret() },
    secrets: {
      bootstrapToken: supplied.bootstrapToken ?? randomToken(),
      ...(options.legacyEncryption ? { aescbcEncryptionSecret: encryption } : { secretboxEncryptionSecret: encryption }),
    },
    trustdInfo: { token: randomToken() },
    certs: { etcd, k8s, k8sAggregator, k8sServiceAccount, os },
  };
}

async function newServiceAccountKey(algorithm: 'ecdsa' | 'rsa'): Promise<PemKey> {
  const key = await generateKeyPair(algorithm, algorithm === 'rsa' ? { rsaBits: RSA_BITS } : {});
  return { key: encodePrivateKeyPem(key) };
}
