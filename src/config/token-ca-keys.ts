// CaKeys for a node whose CA keys are in a PKCS#11 token. The token is opened on first use and kept open; a failure to
// open it or to sign closes it, so the next attempt (the controllers' backoff, trustd's next request) opens it afresh:
// a token plugged back in, or a PIN file corrected, is picked up without a restart. A PIN the token refused is not
// tried again until the file changes: tokens lock the user PIN after a few wrong tries.
import type { SigningCA } from '../pki/index.js';
import { isPkcs11Uri } from '../pki/pkcs11/pkcs11-uri.js';
import { destroyTokenKey, formatPkcs11Uri, parsePkcs11Uri, Pkcs11Token, TokenError } from '../pki/pkcs11/index.js';
import type { CaKeys } from './ca-keys.js';
import { readPin, signingCaOf } from './token-cas.js';
import type { Pkcs11Settings } from './token-cas.js';

export class TokenCaKeys implements CaKeys {
  private token: Pkcs11Token | undefined;
  private readonly cas = new Map<string, SigningCA>();
  private refused: { pin: string; error: TokenError } | undefined;

  constructor(
    readonly settings: Pkcs11Settings,
    /** For entries whose key is not a URI (a PEM key in the config). */
    private readonly inMemory: CaKeys,
  ) {}

  /** Opens the token now, so that start-up can say at once whether it is reachable. */
  check(): void {
    this.open();
  }

  signingCA(crt: string, key: string, field: string): SigningCA {
    if (!isPkcs11Uri(key)) return this.inMemory.signingCA(crt, key, field);
    const id = `${crt}\u0000${key}`;
    const known = this.cas.get(id);
    if (known) return known;
    const ca = signingCaOf({ crt, key }, this.open(), field);
    const sign = ca.signer.sign;
    const watched: SigningCA = {
      ...ca,
      signer: { ...ca.signer, sign: (data, encoding) => sign(data, encoding).catch((err: unknown) => this.fail(err)) },
    };
    this.cas.set(id, watched);
    return watched;
  }

  removeKey(key: string): void {
    if (!isPkcs11Uri(key)) return this.inMemory.removeKey(key);
    const uri = parsePkcs11Uri(key, 'CA key');
    for (const [id, ca] of this.cas) if (ca.signer.keyRef === formatPkcs11Uri(uri)) this.cas.delete(id);
    destroyTokenKey(this.open(), uri);
  }

  close(): void {
    this.cas.clear();
    const token = this.token;
    this.token = undefined;
    token?.close();
  }

  private open(): Pkcs11Token {
    if (this.token) return this.token;
    const pin = readPin(this.settings);
    if (this.refused?.pin === pin) throw this.refused.error;
    try {
      this.token = Pkcs11Token.open({ module: this.settings.module, token: this.settings.token, pin });
      this.refused = undefined;
      return this.token;
    } catch (err) {
      if (err instanceof TokenError && err.reason === 'pin') this.refused = { pin, error: err };
      throw err;
    }
  }

  private fail(err: unknown): never {
    this.close();
    throw err;
  }
}
