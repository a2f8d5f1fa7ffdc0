// How trustd answers when it cannot sign a request it accepted: a certificate the CA cannot issue (PkiError) is the
// requester's to fix (400); a CA whose key is in a PKCS#11 token that cannot be reached now is 503, so the requester
// retries later and the next request opens the token again.
import { PkiError } from '../../pki/index.js';
import type { SigningCA } from '../../pki/index.js';
import { TokenError } from '../../pki/pkcs11/token-error.js';
import { TrustdError } from './trustd-error.js';

/** The CA for this request, or 503 saying why its key cannot sign now. */
export function caForRequest(ca: () => SigningCA): SigningCA {
  try {
    return ca();
  } catch (err) {
    throw new TrustdError(503, `trustd cannot sign now: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Rethrows an issuing failure as trustd's answer (400 or 503); anything else as it is. */
export function signingFailure(err: unknown): never {
  if (err instanceof PkiError) throw new TrustdError(400, `failed to sign CSR: ${err.message}`);
  if (err instanceof TokenError) throw new TrustdError(503, `failed to sign CSR: ${err.message}`);
  throw err;
}
