// The node's TLS material as apid uses it: its server certificate (swapped in live when re-issued), the CAs whose
// client certificates it accepts (followed from the store, so a CA rotation needs no restart) and the impersonator
// certificate it forwards requests with.
import { X509Certificate } from 'node:crypto';
import type { Subscription } from 'rxjs';
import { API_CERTIFICATES_ID } from '../../controllers/api-certificate-controller.js';
import { OS_ROOT_ID } from '../../controllers/os-root-secrets-controller.js';
import { encodePrivateKeyPkcs8Pem, parseCertificatePem, parsePrivateKeyPem } from '../../pki/index.js';
import { CROSS_SIGNED_CAS_ID, CrossSignedCAs } from '../../resources/cross-signed-cas.js';
import { ApiCertificates } from '../../resources/issued-certificates.js';
import type { IssuedCertificatesSpec } from '../../resources/issued-certificates.js';
import { OSRootSecrets } from '../../resources/root-secrets.js';
import type { OSRootSecretsSpec } from '../../resources/root-secrets.js';
import type { Pointer } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';

export const API_CERTIFICATES: Pointer = { namespace: ApiCertificates.namespace, type: ApiCertificates.type, id: API_CERTIFICATES_ID };
export const OS_ROOT: Pointer = { namespace: OSRootSecrets.namespace, type: OSRootSecrets.type, id: OS_ROOT_ID };
export const CROSS_SIGNED: Pointer = { namespace: CrossSignedCAs.namespace, type: CrossSignedCAs.type, id: CROSS_SIGNED_CAS_ID };

/**
 * The server certificate followed by each cross-signed CA certificate that issued it (same name and key as its issuer,
 * signed by another CA): a client trusting that other CA can then build the chain. Others are left out.
 */
export function servingChain(leafPem: string, crossSigned: readonly string[]): string {
  if (crossSigned.length === 0) return leafPem;
  const leaf = new X509Certificate(leafPem);
  const issuers = crossSigned.map((p) => new X509Certificate(p)).filter((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
  return [leafPem.trim(), ...issuers.map((ca) => ca.toString().trim())].join('\n') + '\n';
}

/** A certificate and key Node's TLS can load (Ed25519 keys relabelled from Talos's non-standard PEM label). */
export interface TlsPair {
  cert: string;
  key: string;
}

export function tlsPair(crt: string, key: string, what: string): TlsPair {
  return { cert: crt, key: encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(key, what)) };
}

/** The named certificate of the node's ApiCertificates ('server' or 'impersonator'), when issued. */
export function apiCertificate(spec: IssuedCertificatesSpec | undefined, name: 'server' | 'impersonator'): TlsPair | undefined {
  const issued = spec?.certificates[name];
  return issued ? tlsPair(issued.crt, issued.key, `ApiCertificates ${name} key`) : undefined;
}

export async function readApiCertificates(state: State): Promise<IssuedCertificatesSpec | undefined> {
  return (await state.find<IssuedCertificatesSpec>(API_CERTIFICATES))?.spec;
}

/**
 * The OS CAs apid accepts client certificates from. current() reads OSRootSecrets; follow() keeps `generation` up to
 * date from the store's changes, so a verdict made under an older set of CAs can be told apart without a read.
 */
export class AcceptedCAs {
  private lastText = '';
  private lastCerts: X509Certificate[] = [];
  private lastPems: string[] = [];
  private subscription: Subscription | undefined;
  /** Bumped whenever the accepted set changes. */
  generation = 0;

  constructor(private readonly state: State) {}

  follow(): this {
    this.subscription ??= this.state.watch<OSRootSecretsSpec>(OS_ROOT).subscribe({
      next: (e) => {
        if (e.type === 'created' || e.type === 'updated') this.take(e.resource?.spec);
        else if (e.type === 'destroyed') this.take(undefined);
      },
      // The next current() still reads the store; only the early re-check of open connections is lost.
      error: () => undefined,
    });
    return this;
  }

  close(): void {
    this.subscription?.unsubscribe();
  }

  /** The accepted CAs as the store holds them now, with the generation they belong to. */
  async current(): Promise<{ certs: X509Certificate[]; pems: string[]; generation: number }> {
    this.take((await this.state.find<OSRootSecretsSpec>(OS_ROOT))?.spec);
    return { certs: this.lastCerts, pems: this.lastPems, generation: this.generation };
  }

  /** The parsed certificates are reused while the PEM text stays the same. */
  private take(root: OSRootSecretsSpec | undefined): void {
    const pems = root ? [...new Set([root.issuingCA.crt, ...root.acceptedCAs])] : [];
    const text = pems.join('\n');
    if (text === this.lastText) return;
    this.lastCerts = pems.map((p, i) => parseCertificatePem(p, `OSRootSecrets accepted CA ${i}`));
    this.lastPems = pems;
    this.lastText = text;
    this.generation++;
  }
}
