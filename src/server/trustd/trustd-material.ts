// What trustd serves with, kept current from the store: the OS issuing CA and token (OSRootSecrets) to sign with and
// check against, and its own TLS certificate (TrustdCertificates), handed to the server whenever it is re-issued.
import type { X509Certificate } from 'node:crypto';
import type { Subscription } from 'rxjs';
import { memoryCaKeys, parseCertificate } from '../../controllers/certificate-cache.js';
import type { CaKeys } from '../../config/ca-keys.js';
import { K8S_ROOT_ID } from '../../controllers/kubernetes-root-secrets-controller.js';
import { OS_ROOT_ID } from '../../controllers/os-root-secrets-controller.js';
import { TRUSTD_CERTIFICATES_ID } from '../../controllers/trustd-certificate-controller.js';
import { encodePrivateKeyPkcs8Pem, parsePrivateKeyPem } from '../../pki/index.js';
import type { SigningCA } from '../../pki/index.js';
import { isPkcs11Uri } from '../../pki/pkcs11/pkcs11-uri.js';
import { TrustdCertificates } from '../../resources/issued-certificates.js';
import type { IssuedCertificatesSpec } from '../../resources/issued-certificates.js';
import { KubernetesRootSecrets, OSRootSecrets } from '../../resources/root-secrets.js';
import type { KubernetesRootSecretsSpec, OSRootSecretsSpec } from '../../resources/root-secrets.js';
import type { PemPair } from '../../resources/common.js';
import type { Resource } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';
import { tokenDigest } from './token-check.js';
import type { TokenDigest } from './token-check.js';

export interface SigningMaterial {
  /** The issuing CA, asked for on each request: a CA whose key is in a token may be unreachable now and back later. */
  ca: () => SigningCA;
  token: TokenDigest;
  /** The accepted OS CAs (issuing CA included), parsed: what a node's certificate must chain to. */
  accepted: X509Certificate[];
  /** Every accepted CA (issuing CA included), one PEM after another: what a requester should trust. */
  caBundle: string;
}

/** On a control plane: the Kubernetes CA that signs kubelet CSRs, the CAs a kubelet client certificate may chain to, and the bootstrap token. */
export interface KubeletSigningMaterial {
  /** Asked for on each request, as SigningMaterial.ca. */
  ca: () => SigningCA;
  accepted: X509Certificate[];
  caBundle: string;
  bootstrapToken: TokenDigest | undefined;
}

export interface TlsMaterial {
  cert: string;
  /** PKCS#8 PEM: Node cannot read Talos's `ED25519 PRIVATE KEY` label. */
  key: string;
}

export type Report = (message: string, fields?: Record<string, unknown>) => void;

const osPointer = { namespace: OSRootSecrets.namespace, type: OSRootSecrets.type, id: OS_ROOT_ID };
const k8sPointer = { namespace: KubernetesRootSecrets.namespace, type: KubernetesRootSecrets.type, id: K8S_ROOT_ID };
const tlsPointer = { namespace: TrustdCertificates.namespace, type: TrustdCertificates.type, id: TRUSTD_CERTIFICATES_ID };

export class TrustdMaterial {
  signing: SigningMaterial | undefined;
  kubelet: KubeletSigningMaterial | undefined;
  tls: TlsMaterial | undefined;
  private readonly subscriptions: Subscription[] = [];

  private constructor(
    private readonly onTls: (tls: TlsMaterial) => void,
    private readonly report: Report,
    private readonly caKeys: CaKeys,
  ) {}

  /** Loads the current material, then follows changes until close(). */
  static async watch(state: State, onTls: (tls: TlsMaterial) => void, report: Report, caKeys: CaKeys = memoryCaKeys): Promise<TrustdMaterial> {
    const m = new TrustdMaterial(onTls, report, caKeys);
    m.setSigning(await state.find<OSRootSecretsSpec>(osPointer));
    m.setTls(await state.find<IssuedCertificatesSpec>(tlsPointer));
    m.setKubelet(await state.find<KubernetesRootSecretsSpec>(k8sPointer));
    m.subscriptions.push(
      state.watch<OSRootSecretsSpec>(osPointer).subscribe({
        next: (e) => m.setSigning(e.type === 'destroyed' ? undefined : e.resource),
        error: (err: unknown) => report('trustd stopped following OS root secrets', { error: String(err) }),
      }),
      state.watch<KubernetesRootSecretsSpec>(k8sPointer).subscribe({
        next: (e) => m.setKubelet(e.type === 'destroyed' ? undefined : e.resource),
        error: (err: unknown) => report('trustd stopped following Kubernetes root secrets', { error: String(err) }),
      }),
      state.watch<IssuedCertificatesSpec>(tlsPointer).subscribe({
        next: (e) => m.setTls(e.type === 'destroyed' ? undefined : e.resource),
        error: (err: unknown) => report('trustd stopped following its certificate', { error: String(err) }),
      }),
    );
    return m;
  }

  close(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }

  private setSigning(root: Resource<OSRootSecretsSpec> | undefined): void {
    if (!root || root.spec.machineType === 'worker' || !root.spec.issuingCA.key) {
      this.signing = undefined;
      return;
    }
    const { issuingCA, acceptedCAs, token } = root.spec;
    this.signing = this.keep('the OS issuing CA', issuingCA, 'machine.ca', (ca) => ({ ca, token: tokenDigest(token), accepted: acceptedCAs.map(parseCertificate), caBundle: bundleOf(acceptedCAs) }));
  }

  private setKubelet(root: Resource<KubernetesRootSecretsSpec> | undefined): void {
    if (!root || !root.spec.ca.key) {
      this.kubelet = undefined;
      return;
    }
    const { ca, acceptedCAs, bootstrapToken } = root.spec;
    this.kubelet = this.keep('the Kubernetes CA', ca, 'cluster.ca', (signingCA) => ({
      ca: signingCA,
      accepted: acceptedCAs.map(parseCertificate),
      caBundle: bundleOf(acceptedCAs),
      bootstrapToken: bootstrapToken ? tokenDigest(bootstrapToken) : undefined,
    }));
  }

  /**
   * The material of a CA, or undefined when it cannot sign. A key in a token that cannot be reached now is kept: each
   * request tries again and answers 503 meanwhile; a PEM key that does not load is dropped.
   */
  private keep<M>(what: string, pair: PemPair, field: string, material: (ca: () => SigningCA) => M): M | undefined {
    const ca = () => this.caKeys.signingCA(pair.crt, pair.key, field);
    let made: M | undefined;
    try {
      made = material(ca);
      ca();
      return made;
    } catch (err) {
      this.report(`trustd cannot use ${what}`, { error: err instanceof Error ? err.message : String(err) });
      return isPkcs11Uri(pair.key) ? made : undefined;
    }
  }

  private setTls(set: Resource<IssuedCertificatesSpec> | undefined): void {
    const server = set?.spec.certificates.server;
    if (!server || (this.tls && this.tls.cert === server.crt)) return;
    try {
      this.tls = { cert: server.crt, key: encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(server.key)) };
      this.onTls(this.tls);
    } catch (err) {
      this.report('trustd cannot use its server certificate', { error: err instanceof Error ? err.message : String(err) });
    }
  }
}

const bundleOf = (pems: readonly string[]): string => pems.map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)).join('');
