// The secrets bundle: everything a cluster's machine configs are derived from (Talos `gen secrets`).
// Certificates and keys are held as PEM text here; the on-disk form base64-encodes them (see secrets-bundle-codec.ts).

export interface PemCertAndKey {
  crt: string;
  /** Empty where the key is withheld (a worker's copy of a CA). */
  key: string;
}

export interface PemKey {
  key: string;
}

export interface SecretsBundle {
  cluster: { id: string; secret: string };
  secrets: {
    bootstrapToken: string;
    /** Current kube-apiserver encryption at rest key; exactly one of the two is set. */
    secretboxEncryptionSecret?: string;
    /** Legacy (Talos < 1.3) encryption key, still read and written. */
    aescbcEncryptionSecret?: string;
  };
  trustdInfo: { token: string };
  certs: {
    etcd: PemCertAndKey;
    k8s: PemCertAndKey;
    k8sAggregator: PemCertAndKey;
    k8sServiceAccount: PemKey;
    os: PemCertAndKey;
  };
  /** A comment header found before the document, written back unchanged. */
  comment?: string;
}

/** A bundle as read from a file: any section may be missing until validation says otherwise. */
export interface SecretsBundleDraft {
  cluster?: { id: string; secret: string };
  secrets?: { bootstrapToken: string; secretboxEncryptionSecret: string; aescbcEncryptionSecret: string };
  trustdInfo?: { token: string };
  certs?: {
    etcd?: PemCertAndKey;
    k8s?: PemCertAndKey;
    k8sAggregator?: PemCertAndKey;
    k8sServiceAccount?: PemKey;
    os?: PemCertAndKey;
  };
  comment?: string;
}

