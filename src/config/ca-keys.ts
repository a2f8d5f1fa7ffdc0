// Where a node's CAs sign: handed to the controllers and trustd, which ask it for the CA of a root-secrets entry on
// every reconcile or request. The default signs with PEM keys in memory; TokenCaKeys (token-ca-keys.ts) signs with the
// keys a PKCS#11 token holds, opening the token again after it fails.
import type { SigningCA } from '../pki/index.js';

export interface CaKeys {
  /** The CA of a `{crt, key}` entry (`field` names it in errors); throws when its key cannot be reached now. */
  signingCA(crt: string, key: string, field: string): SigningCA;
  /** Removes a CA key no longer in use (the old CA at the end of a rotation): a token key is destroyed; PEM needs nothing. */
  removeKey(key: string): void;
}
