// Typed errors of the PKI layer. Each message names the input, the problem and, where one exists, the fix.
export type PkiErrorCode = 'InvalidPem' | 'InvalidKey' | 'InvalidCertificate' | 'KeyMismatch' | 'NotCA' | 'InvalidOption' | 'InvalidJwt' | 'KeyInToken';

export class PkiError extends Error {
  constructor(
    readonly code: PkiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PkiError';
  }
}

/** Why a CSR was refused; the messages are the ones trustd returns upstream. */
export type CsrErrorReason = 'decode' | 'parse' | 'signature';

export class CsrError extends Error {
  constructor(
    readonly reason: CsrErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'CsrError';
  }
}
