// PEM armour: one block <-> DER, bundles split into blocks, certificates parsed with clear errors.
import { X509Certificate } from 'node:crypto';
import { PkiError } from './errors.js';

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

export interface PemBlock {
  label: string;
  der: Buffer;
  /** The block's own text, BEGIN to END line inclusive, with a trailing newline. */
  text: string;
}

export function encodePem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n';
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

/** Every PEM block in `text`, in order; text between blocks (comments, blank lines) is ignored. */
export function decodePemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const headerless = m[2].replace(/^[A-Za-z-]+:.*\r?\n/gm, '');
    out.push({ label: m[1], der: Buffer.from(headerless.replace(/\s+/g, ''), 'base64'), text: m[0].replace(/\r\n/g, '\n') + '\n' });
  }
  return out;
}

/** The single block of `text`; `what` names the input in the error ("CA certificate", "private key"). */
export function decodePem(text: string, what = 'PEM input'): PemBlock {
  const blocks = decodePemBlocks(text);
  if (blocks.length === 0) throw new PkiError('InvalidPem', `${what}: no PEM block found (expected text starting with "-----BEGIN ...-----")`);
  return blocks[0];
}

/** The certificate blocks of a bundle as separate PEM strings, in order. */
export function splitPemBundle(pem: string): string[] {
  return decodePemBlocks(pem)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => b.text);
}

export function parseCertificatePem(pem: string, what = 'certificate'): X509Certificate {
  const blocks = decodePemBlocks(pem);
  if (blocks.length === 0) throw new PkiError('InvalidPem', `${what}: no PEM block found (expected "-----BEGIN CERTIFICATE-----")`);
  const block = blocks.find((b) => b.label === 'CERTIFICATE');
  if (!block) throw new PkiError('InvalidPem', `${what}: expected a "CERTIFICATE" PEM block, got "${blocks[0].label}"`);
  return parseCertificateDer(block.der, what);
}

export function parseCertificateDer(der: Buffer, what = 'certificate'): X509Certificate {
  try {
    const cert = new X509Certificate(der);
    // node decodes the public key only when it is first asked for; one it cannot decode would throw a bare Error
    // from whichever caller asks first (a key match, inspect), so it is read here, once, where the refusal is clear
    void cert.publicKey;
    return cert;
  } catch (err) {
    throw new PkiError('InvalidCertificate', `${what}: not a valid X.509 certificate (${(err as Error).message})`);
  }
}

/** Every certificate of a bundle; an empty or certificate-free bundle is an error. */
export function parseCertificateBundle(pem: string, what = 'certificate bundle'): X509Certificate[] {
  const blocks = splitPemBundle(pem);
  if (blocks.length === 0) throw new PkiError('InvalidPem', `${what}: no "CERTIFICATE" PEM block found`);
  return blocks.map((b, i) => parseCertificatePem(b, `${what}[${i}]`));
}
