// Talos stores every certificate and key in YAML as standard base64 of the whole PEM text.
import { ConfigError } from './config-error.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function encodePemField(pem: string): string {
  return Buffer.from(pem, 'utf8').toString('base64');
}

/** Decodes strictly: Node's decoder silently skips garbage, Go's refuses it, and we want Go's answer. */
export function decodePemField(field: string, value: string): string {
  const compact = value.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw new ConfigError(field, 'expected standard base64 of a PEM block (as written by talosctl), got text that is not base64');
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}
