// Runs a command's work with the PKCS#11 token its flags (or TRUSTPLANE_PKCS11_*) name, open and logged in, and closes
// it however the work ends. Without the flags the work runs with no token, and the binding is never loaded.
import { memoryCaOf } from '../config/ca-entry.js';
import type { SigningCA } from '../pki/index.js';
import type { PemCertAndKey } from '../config/secrets-bundle.js';
import type { NewCA, TokenCaMaker } from '../config/token-cas.js';
import type { Pkcs11Token } from '../pki/pkcs11/index.js';
import { inCwd } from './cli-io.js';
import type { CliPlace } from './cli-io.js';
import { pkcs11Settings } from './pkcs11-flags.js';
import type { Pkcs11Flags } from './pkcs11-flags.js';

export interface TokenUse {
  token: Pkcs11Token | undefined;
  /** Makes new CAs in the token (undefined without one): a failed run removes the keys it made. */
  newCA: NewCA | undefined;
  /** Moves a CA's PEM key into the token (undefined without one); undone like newCA when the run fails. */
  importCA: TokenCaMaker['importCA'] | undefined;
  /** Loads a CA from a bundle or config entry, signing in the token when its key is a pkcs11: URI. */
  signingCA: (pair: PemCertAndKey, field: string) => SigningCA;
}

/**
 * `undoOnFailure` false keeps the keys made even when the work fails: a rotation the control plane already took must
 * keep its new CA key, whatever happens to this command afterwards.
 */
export async function withTokenUse<T>(flags: Pkcs11Flags, place: CliPlace, work: (use: TokenUse) => Promise<T>, undoOnFailure = true): Promise<T> {
  const settings = pkcs11Settings(flags, place.env);
  if (!settings) return work({ token: undefined, newCA: undefined, importCA: undefined, signingCA: memoryCaOf });
  const { openToken, signingCaOf, tokenCaMaker } = await import('../config/token-cas.js');
  // the module stays as given: a bare library name is found on the loader's path, not in the directory
  const token = openToken({ ...settings, pinFile: inCwd(place, settings.pinFile) });
  const maker = tokenCaMaker(token);
  try {
    return await work({ token, newCA: maker.newCA, importCA: maker.importCA, signingCA: (pair, field) => signingCaOf(pair, token, field) });
  } catch (err) {
    if (undoOnFailure) maker.undo();
    throw err;
  } finally {
    token.close();
  }
}
