// The node's TLS material as apid uses it: its server certificate (swapped in live when re-issued), the CAs whose
// client certificates it accepts (read again for every new connection, so a CA rotation needs no restart) and the
// impersonator certificate it forwards requests with.
import type { X509Certificate } from 'node:crypto';
import { API_CERTIFICATES_ID } from '../../controllers/api-certificate-controller.js';
import { OS_ROOT_ID } from '../../controllers/os-root-secrets-controller.js';
import { encodePrivateKeyPkcs8Pem, parseCertificatePem, parsePrivateKeyPem } from '../../pki/index.js';
import { ApiCertificates } from '../../resources/issued-certificates.js';
import type { IssuedCertificatesSpec } from '../../resources/issued-certificates.js';
import { OSRootSecrets } from '../../resources/root-secrets.js';
import type { OSRootSecretsSpec } from '../../resources/root-secrets.js';
import type { Pointer } from '../../runtime/resource.js';
import type { State } from '../../runtime/state.js';

export const API_CERTIFICATES: Pointer = { namespace: ApiCertificates.namespace, type: ApiCertificates.type, id: API_CERTIFICATES_ID };
export const OS_ROOT: Pointer = { namespace: OSRootSecrets.namespace, type: OSRootSecrets.type, id: OS_ROOT_ID };

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

/** Reads OSRootSecrets on each call; the parsed certificates are reused while the PEM text stays the same. */
export class AcceptedCAs {
  private lastText = '';
  private lastCerts: X509Certificate[] = [];
  private lastPems: string[] = [];

  constructor(private readonly state: State) {}

  async current(): Promise<{ certs: X509Certificate[]; pems: string[] }> {
    const root = await this.state.find<OSRootSecretsSpec>(OS_ROOT);
    const pems = root ? [...new Set([root.spec.issuingCA.crt, ...root.spec.acceptedCAs])] : [];
    const text = pems.join('\n');
    if (text !== this.lastText) {
      this.lastCerts = pems.map((p, i) => parseCertificatePem(p, `OSRootSecrets accepted CA ${i}`));
      this.lastPems = pems;
      this.lastText = text;
    }
    return { certs: this.lastCerts, pems: this.lastPems };
  }
}
