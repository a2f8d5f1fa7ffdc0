// Errors from a PKCS#11 token. Each one names the module and the token, says what went wrong in PKCS#11's own words
// (CKR_PIN_INCORRECT ...) and what to do about it, so the line in a log is enough to fix the problem.
export type TokenErrorReason = 'module' | 'token' | 'pin' | 'key' | 'mechanism' | 'sign' | 'closed';

export class TokenError extends Error {
  constructor(
    readonly reason: TokenErrorReason,
    readonly module: string,
    readonly token: string,
    problem: string,
    fix: string,
  ) {
    super(`PKCS#11 token "${token}" (module ${module}): ${problem}; ${fix}`);
    this.name = 'TokenError';
  }
}

/** The CKR_ name a binding error carries (pkcs11js puts it in the message), or the message itself. */
export function ckrOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return /CKR_[A-Z_]+/.exec(message)?.[0] ?? message;
}

export const MODULE_FIX = 'install the library or point --pkcs11-module (TRUSTPLANE_PKCS11_MODULE) at it, e.g. /usr/lib/softhsm/libsofthsm2.so';
export const TOKEN_FIX = 'initialise the token (softhsm2-util --init-token --free --label LABEL) or fix --pkcs11-token (TRUSTPLANE_PKCS11_TOKEN)';
export const PIN_FIX = 'put the token\'s user PIN in the file named by --pkcs11-pin-file (TRUSTPLANE_PKCS11_PIN_FILE)';
