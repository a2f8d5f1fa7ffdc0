// When a key stops being acceptable for signing. NIST SP 800-57 Part 1 Rev. 5 (and SP 800-131A): 112-bit security
// strength, which RSA 2048 gives, may sign through 2030 and is disallowed from 2031; RSA under 2048 bits already is.
// A ten-year look ahead crosses that date, and CAs imported from kubeadm (RSA 2048) are common, so the check says
// when and what to do rather than letting the day pass unnoticed.

/** The first instant RSA keys below 3072 bits are disallowed for signing. */
export const RSA_112_BIT_DISALLOWED_FROM = Date.UTC(2031, 0, 1);

/** From when a key of this kind may no longer sign, or undefined when no date is known (ECDSA, Ed25519, RSA >= 3072). */
export function keyDisallowedFrom(keyAlgorithm: string, keySize: number): number | undefined {
  if (keyAlgorithm !== 'RSA') return undefined;
  if (keySize < 2048) return -Infinity;
  return keySize < 3072 ? RSA_112_BIT_DISALLOWED_FROM : undefined;
}
