// What a worker shows trustd. Its current certificate, once it holds one trustd will take: the apid certificate for a
// renewal and for the revocation list, the kubelet client certificate for kubelet CSRs. The token of its config
// otherwise: on the first join, and once the certificate has run out, comes from a CA no longer accepted, or lacks a
// name the request asks for (trustd lets a renewal drop names, never add one). So a worker joined with a single-use
// join token keeps renewing after the token is spent, as a kubelet does after its bootstrap token.
import { parseCertificate } from '../../controllers/certificate-cache.js';
import { encodePrivateKeyPkcs8Pem, parsePrivateKeyPem, verifyChain } from '../../pki/index.js';
import { carriedNames, nameKey } from '../trustd/node-certificate-auth.js';

export type TrustdCredential = { token: string } | { clientCertificate: { crt: string; key: string } };

export interface CredentialInput {
  /** The certificate and key (PEM) the node holds, if any. */
  held: { crt: string; key: string } | undefined;
  /** CAs (PEM) trustd accepts the certificate from. */
  acceptedCAs: readonly string[];
  /** The usage trustd checks: serverAuth for the apid certificate, clientAuth for the kubelet's. */
  purpose: 'clientAuth' | 'serverAuth';
  now: Date;
  token: string;
  /** Names the request asks for: the certificate must carry each. */
  names?: readonly string[];
}

export function trustdCredential(i: CredentialInput): TrustdCredential {
  if (!i.held) return { token: i.token };
  const cert = parseCertificate(i.held.crt);
  if (!verifyChain(cert, i.acceptedCAs.map(parseCertificate), { at: i.now, purpose: i.purpose }).ok) return { token: i.token };
  const carried = carriedNames(cert);
  if ((i.names ?? []).some((n) => !carried.has(nameKey(n)))) return { token: i.token };
  return { clientCertificate: { crt: i.held.crt, key: encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(i.held.key)) } };
}

/** How a request authenticated, as responses record it. */
export const credentialKind = (c: TrustdCredential): 'token' | 'certificate' => ('token' in c ? 'token' : 'certificate');
