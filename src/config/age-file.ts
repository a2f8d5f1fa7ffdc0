// age (age-encryption.org/v1) for secrets bundles and machine configs: encrypting to recipients as an armored file that
// the age CLI decrypts, decrypting what the age CLI wrote, and reading identity and recipient files in age-keygen's
// format. The format itself is the age-encryption package's; this file only frames it and words its errors, which
// must never echo a secret key (the package's own bech32 errors quote the string they were given).
import { armor, Decrypter, Encrypter } from 'age-encryption';
import { ConfigError } from './config-error.js';
import { ageForm, isAgeEncrypted } from './age-header.js';

/** Where a list of identities came from, for the errors: `age identity file "key.txt" (from --age-identity)`. */
export interface AgeIdentities {
  source: string;
  identities: readonly string[];
}

/** age-keygen's key file: one identity a line; blank lines and `#` comments (the created/public key lines) skipped. */
export function parseAgeIdentities(text: string, source: string): string[] {
  if (isAgeEncrypted(Buffer.from(text, 'utf8')))
    throw new ConfigError(source, 'passphrase-protected (age-encrypted itself), and trustctl does not ask for passphrases; decrypt it first with age -d');
  const identities = keyLines(text).map(({ line, value }) => {
    const problem = identityProblem(value);
    if (problem) throw new ConfigError(source, `line ${line}: ${problem}`);
    return value;
  });
  if (identities.length === 0) throw new ConfigError(source, 'no age identity in it (expected a line AGE-SECRET-KEY-1..., as age-keygen writes it)');
  return identities;
}

/** A recipients file (`age -R`): one recipient a line; blank lines and `#` comments skipped. */
export function parseAgeRecipients(text: string, source: string): string[] {
  const recipients = keyLines(text).map(({ line, value }) => {
    const problem = ageRecipientProblem(value);
    if (problem) throw new ConfigError(source, `line ${line}: ${problem}`);
    return value;
  });
  if (recipients.length === 0) throw new ConfigError(source, 'no age recipient in it (expected lines age1..., as age-keygen -y prints them)');
  return recipients;
}

function keyLines(text: string): { line: number; value: string }[] {
  return text
    .split(/\r?\n/)
    .map((raw, i) => ({ line: i + 1, value: raw.trim() }))
    .filter(({ value }) => value !== '' && !value.startsWith('#'));
}

/** Why `value` is not a recipient this package can encrypt to; the value is quoted only when it is not a secret key. */
export function ageRecipientProblem(value: string): string | undefined {
  if (/^AGE-(SECRET-KEY|PLUGIN)-/i.test(value))
    return 'this is an identity (a secret key), not a recipient: give its public key, which age-keygen -y KEYFILE prints';
  if (/^ssh-/.test(value)) return 'SSH recipients are not supported: give an age recipient (age1..., from age-keygen)';
  try {
    new Encrypter().addRecipient(value);
    return undefined;
  } catch {
    const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
    return `expected an age recipient (age1... as age-keygen -y prints it), got ${JSON.stringify(shown)}`;
  }
}

/** Never quotes the value: a mistyped secret key is still mostly a secret key. */
function identityProblem(value: string): string | undefined {
  if (/^AGE-PLUGIN-/i.test(value)) return 'age plugin identities are not supported: give an AGE-SECRET-KEY-1... identity';
  if (/^-----BEGIN /.test(value)) return 'SSH and other PEM keys are not supported as age identities: give an AGE-SECRET-KEY-1... identity';
  try {
    new Decrypter().addIdentity(value);
    return undefined;
  } catch {
    return /^AGE-SECRET-KEY-/i.test(value)
      ? 'not a valid age identity (a damaged or mistyped AGE-SECRET-KEY-1... line)'
      : 'not an age identity (expected AGE-SECRET-KEY-1..., as age-keygen writes it)';
  }
}

/** Encrypted to every recipient, ASCII-armored with a final newline: what `age -a -r ...` would write. */
export async function encryptArmored(plaintext: string, recipients: readonly string[]): Promise<string> {
  if (recipients.length === 0) throw new Error('encryptArmored: no recipients; this is a bug');
  const encrypter = new Encrypter();
  for (const r of recipients) encrypter.addRecipient(r);
  return armor.encode(await encrypter.encrypt(plaintext));
}

/**
 * The plaintext of an armored or binary age file. `file` names it in errors (`machine config "x.yaml"`); nothing of
 * the plaintext or the identities appears in them.
 */
export async function decryptAgeFile(data: Uint8Array, keys: readonly AgeIdentities[], file: string): Promise<Uint8Array> {
  const decrypter = new Decrypter();
  for (const k of keys) for (const identity of k.identities) decrypter.addIdentity(identity);
  let raw: Uint8Array;
  try {
    raw = ageForm(data) === 'armored' ? armor.decode(Buffer.from(data).toString('utf8')) : data;
  } catch (err) {
    throw damaged(file, err);
  }
  try {
    return await decrypter.decrypt(raw);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('no identity matched')) {
      const tried = keys.map((k) => k.source).join(', ');
      throw new ConfigError(file, `cannot be decrypted: it is encrypted to other recipients than the identities in ${tried}; give the identity file it was encrypted to`);
    }
    throw damaged(file, err);
  }
}

/** The package's format errors are short fixed phrases ("invalid tag", "invalid footer"): kept as the detail. */
function damaged(file: string, err: unknown): ConfigError {
  const detail = err instanceof Error ? err.message : String(err);
  return new ConfigError(file, `cannot be decrypted: not a whole age file (${detail}), it is damaged or truncated; encrypt it again from the original`);
}
