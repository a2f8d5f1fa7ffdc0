// Checks a PEM certificate/key the way Talos' secrets validation does, returning upstream's wording
// ("failed to parse PEM block", `unsupported key type: "CERTIFICATE"`) so errors match what talosctl prints.
import { caShapeProblems, caValidityProblem } from '../pki/ca-check.js';
import { decodePemBlocks, parseCertificatePem } from '../pki/pem.js';
import { parsePrivateKeyPem, samePublicKey } from '../pki/keys.js';
import { isPkcs11Uri, parsePkcs11Uri } from '../pki/pkcs11/pkcs11-uri.js';

const KEY_LABELS = new Set(['EC PRIVATE KEY', 'RSA PRIVATE KEY', 'ED25519 PRIVATE KEY', 'PRIVATE KEY']);

/** Returns undefined when `pem` holds a usable private key, else the reason. */
export function privateKeyProblem(pem: string): string | undefined {
  return remembered(`key\u0000${pem}`, () => keyProblem(pem));
}

/** A CA key field: a usable PEM private key, or a well-formed pkcs11: URI (checked against the token when opened). */
export function caKeyProblem(key: string): string | undefined {
  return isPkcs11Uri(key) ? pkcs11UriProblem(key) : privateKeyProblem(key);
}

function keyProblem(pem: string): string | undefined {
  const block = decodePemBlocks(pem)[0];
  if (!block) return 'failed to parse PEM block';
  if (!KEY_LABELS.has(block.label)) return `unsupported key type: "${block.label}"`;
  try {
    parsePrivateKeyPem(block.text, 'key');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Returns undefined when `pem` holds an X.509 certificate, else the reason. */
export function certificateProblem(pem: string): string | undefined {
  return remembered(`crt\u0000${pem}`, () => crtProblem(pem));
}

function crtProblem(pem: string): string | undefined {
  if (decodePemBlocks(pem).length === 0) return 'failed to parse PEM block';
  try {
    parseCertificatePem(pem, 'crt');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Undefined when `crt` is a certificate that can act as a CA: CA:TRUE, keyCertSign, a strong key and, when `now` is
 * given, valid at `now`. Its start may be up to five minutes after `now` (the skew issued certificates are backdated
 * for): a CA made on one machine and applied at once on another whose clock is a little behind is not refused.
 */
export function caCertificateProblem(crt: string, now?: Date): string | undefined {
  const problem = certificateProblem(crt) ?? remembered(`ca\u0000${crt}`, () => caShapeProblems(parseCertificatePem(crt, 'crt')).join('; ') || undefined);
  if (problem || !now) return problem;
  return caValidityProblem(parseCertificatePem(crt, 'crt'), now, CLOCK_SKEW_MS);
}

const CLOCK_SKEW_MS = 5 * 60_000;

/** A CA with its key: the pair must match (key first, as upstream) and the certificate must be a usable CA. */
export function caPairProblem(pair: { crt: string; key: string }, now?: Date): string | undefined {
  return certAndKeyProblem(pair) ?? caCertificateProblem(pair.crt, now);
}

/**
 * Upstream checks the key first, then the certificate, and reports the first problem. We also refuse a key that
 * does not belong to the certificate, which upstream lets through until the first signature fails.
 */
export function certAndKeyProblem(pair: { crt: string; key: string }): string | undefined {
  return remembered(`pair\u0000${pair.crt}\u0000${pair.key}`, () => pairProblem(pair));
}

function pairProblem(pair: { crt: string; key: string }): string | undefined {
  // a key in a token is checked against the certificate when the token is opened (caFromSigner): not here, offline
  if (isPkcs11Uri(pair.key)) return pkcs11UriProblem(pair.key) ?? certificateProblem(pair.crt);
  const problem = privateKeyProblem(pair.key) ?? certificateProblem(pair.crt);
  if (problem) return problem;
  const key = parsePrivateKeyPem(decodePemBlocks(pair.key)[0].text, 'key');
  const cert = parseCertificatePem(pair.crt, 'crt');
  return samePublicKey(key.publicKey, cert.publicKey) ? undefined : "the key does not match the certificate's public key";
}

function pkcs11UriProblem(uri: string): string | undefined {
  try {
    parsePkcs11Uri(uri, 'key');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

// Every write of a machine config validates the same CA certificates and keys again (parsing a key costs ~0.3 ms);
// verdicts are pure functions of the PEM text, so the recent ones are kept.
const verdicts = new Map<string, string | undefined>();

function remembered(key: string, compute: () => string | undefined): string | undefined {
  if (verdicts.has(key)) return verdicts.get(key);
  const verdict = compute();
  if (verdicts.size >= 256) verdicts.delete(verdicts.keys().next().value as string);
  verdicts.set(key, verdict);
  return verdict;
}
