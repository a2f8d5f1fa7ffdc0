// Talos stores every certificate and key in YAML as standard base64 of the whole PEM text. A CA key held in a PKCS#11
// token is the exception: its field holds the key's pkcs11: URI (RFC 7512) as plain text, in place of the key.
import { isPkcs11Uri } from '../pki/pkcs11/pkcs11-uri.js';
import { ConfigError } from './config-error.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function encodePemField(pem: string): string {
  return Buffer.from(pem, 'utf8').toString('base64');
}

/** Decodes strictly: Node's decoder silently skips garbage, Go's refuses it, and we want Go's answer. */
export function decodePemField(field: string, value: string): string {
  const compact = value.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw new ConfigError(field, `expected standard base64 of a PEM block (as written by talosctl, or \`base64 -w0 FILE.pem\`), got ${shown(field, compact)}`);
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}

/** What was there instead, without echoing a key: the value itself only when short and not secret. */
function shown(field: string, compact: string): string {
  const secret = /(key|secret|token)$/i.test(field);
  const stray = compact.replace(/[A-Za-z0-9+/=]/g, '')[0];
  const why = !BASE64.test(compact)
    ? `a character base64 does not use${secret || stray === undefined ? '' : ` (${JSON.stringify(stray)})`}`
    : `${compact.length} characters where base64 comes in groups of 4`;
  return secret || compact.length > 40 ? `a value that is not base64: ${why}` : `${JSON.stringify(compact)}, which is not base64: ${why}`;
}

/** A CA key field: base64 of the PEM key, or the pkcs11: URI of a key in a token, written as it is. */
export function encodeKeyField(key: string): string {
  return isPkcs11Uri(key) ? key : encodePemField(key);
}

export function decodeKeyField(field: string, value: string): string {
  return isPkcs11Uri(value.trim()) ? value.trim() : decodePemField(field, value);
}
