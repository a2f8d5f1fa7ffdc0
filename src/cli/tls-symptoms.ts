// The certificate failures people search for, said in the Talos docs' words with their prefix (`failed to connect:
// x509: certificate has expired`, `failed to verify certificate: x509: certificate signed by unknown authority`) on
// the first line, then what exactly failed and what to do. Two sources: Node's TLS refusing the node's certificate
// (OpenSSL codes), and apid refusing ours (Go's messages, HTTP 401).

export const EXPIRED_SYMPTOM = 'failed to connect: x509: certificate has expired';
export const UNKNOWN_AUTHORITY_SYMPTOM = 'failed to verify certificate: x509: certificate signed by unknown authority';

const NEW_CLIENT_CERT =
  'fix: get a new client certificate: `trustctl config new --with-secrets secrets.yaml` (or `trustctl gen config <cluster> <endpoint> --with-secrets secrets.yaml --output-types talosconfig`), or ask an admin for a new talosconfig';

/** OpenSSL's verdicts on a server certificate that does not chain to the talosconfig's CA. */
const UNKNOWN_AUTHORITY_CODES = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_SIGNATURE_FAILURE']);

const lines = (...parts: string[]) => parts.join('\n    ');

/** Our side refused the node's certificate during the handshake; undefined for any other connection failure. */
export function serverCertificateSymptom(code: string): string | undefined {
  if (UNKNOWN_AUTHORITY_CODES.has(code))
    return lines(
      UNKNOWN_AUTHORITY_SYMPTOM,
      "the node's certificate does not chain to the CA in your talosconfig",
      'fix: check you use the right talosconfig (`trustctl config info`); after a CA rotation use the talosconfig trustctl rotate-ca wrote',
    );
  if (code === 'CERT_HAS_EXPIRED')
    return lines(
      EXPIRED_SYMPTOM,
      "the node's own certificate has expired (trustplane renews it while the node runs)",
      "fix: check the node's clock and its `trustctl serve` log, then `trustctl get certificatestatus --state DIR` on the node",
    );
  return undefined;
}

/** apid refused our client certificate (401 with Go's message); undefined for every other refusal. */
export function clientCertificateSymptom(status: number, message: string): string | undefined {
  if (status !== 401) return undefined;
  if (/^x509: certificate has expired or is not yet valid: .* is after /.test(message))
    return lines(EXPIRED_SYMPTOM, `the node refused your client certificate: ${message}`, NEW_CLIENT_CERT);
  if (message === 'x509: certificate signed by unknown authority')
    return lines(
      UNKNOWN_AUTHORITY_SYMPTOM,
      "the node refused your client certificate: it was not signed by a CA this cluster accepts (a talosconfig of another cluster, or one from before a CA rotation whose old CA is no longer accepted)",
      NEW_CLIENT_CERT,
    );
  return undefined;
}
