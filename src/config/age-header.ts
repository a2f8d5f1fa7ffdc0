// Telling an age-encrypted file from a plain one by its first bytes. Kept apart from the age codec (age-file.ts) so
// every command that reads a file can ask without loading the age library.

/** The first line of the ASCII-armored form (`age -a`, and what trustctl writes). */
export const AGE_ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
/** The binary form starts with its version line, `age-encryption.org/v1`. */
const AGE_BINARY_BEGIN = 'age-encryption.org/';

/** Armored (leading whitespace allowed, as age itself allows), binary, or not age at all. */
export function ageForm(data: Uint8Array): 'armored' | 'binary' | undefined {
  const head = Buffer.from(data.subarray(0, 256)).toString('latin1');
  if (head.startsWith(AGE_BINARY_BEGIN)) return 'binary';
  if (head.trimStart().startsWith(AGE_ARMOR_BEGIN)) return 'armored';
  return undefined;
}

export function isAgeEncrypted(data: Uint8Array): boolean {
  return ageForm(data) !== undefined;
}
