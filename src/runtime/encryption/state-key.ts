// Where the key that seals sensitive specs comes from: given directly, the TRUSTPLANE_STATE_KEY variable, or a 0600
// file beside the store. The key never lives inside the database it protects.
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { EncryptionError } from '../errors.js';
import { KEY_BYTES } from './secret-box.js';

export const STATE_KEY_ENV = 'TRUSTPLANE_STATE_KEY';

/** `auto`: the environment variable when set, else the key file. `none`: sensitive specs are stored in the clear. */
export type StateKeySource = Buffer | 'file' | 'env' | 'auto' | 'none';

/**
 * Where TRUSTPLANE_STATE_KEY is read: the process's environment unless a caller gives its own (a CLI command run in
 * process passes its io's, so it never sees a key set for the process around it).
 */
export type KeyEnvironment = Readonly<Record<string, string | undefined>>;

export interface LoadedKey {
  key: Buffer | undefined;
  /** Where the key came from, for error messages (never the key itself). */
  origin: string;
}

export function keyFilePath(storePath: string): string {
  return `${storePath}.key`;
}

/**
 * Loads (or, for a store that has never held encrypted data, creates) the key.
 * `storeHasEncryptedData` stops a lost key file from being silently replaced by a fresh one; `create` false (a
 * reader) never makes one.
 */
export function loadStateKey(source: StateKeySource, storePath: string, storeHasEncryptedData: boolean, create = true, env: KeyEnvironment = process.env): LoadedKey {
  if (Buffer.isBuffer(source)) return { key: checkLength(source, 'the encryptionKey option'), origin: 'the encryptionKey option' };
  if (source === 'none') return { key: undefined, origin: 'none' };
  if (source === 'env' || (source === 'auto' && env[STATE_KEY_ENV] !== undefined)) return fromEnv(env);
  if (storePath === ':memory:') return { key: randomBytes(KEY_BYTES), origin: 'an ephemeral key (in-memory store)' };
  if (!create && !storeHasEncryptedData && !existsSync(keyFilePath(storePath))) return { key: undefined, origin: 'none' };
  return fromFile(keyFilePath(storePath), storePath, storeHasEncryptedData);
}

function fromEnv(env: KeyEnvironment): LoadedKey {
  const text = env[STATE_KEY_ENV];
  if (!text) {
    throw new EncryptionError(`${STATE_KEY_ENV} is not set: set it to the base64 of 32 random bytes (openssl rand -base64 32)`);
  }
  return { key: decodeKey(text, STATE_KEY_ENV), origin: STATE_KEY_ENV };
}

function fromFile(file: string, storePath: string, storeHasEncryptedData: boolean): LoadedKey {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (storeHasEncryptedData) {
      throw new EncryptionError(
        `state key file "${file}" is missing but store "${storePath}" holds encrypted data: ` +
          `restore the key file (mode 0600) or set ${STATE_KEY_ENV} to the store's key`,
      );
    }
    const key = randomBytes(KEY_BYTES);
    // Written whole under a private name, then linked into place: a link either appears with the full key or fails
    // (EEXIST), so another process opening the same new store never reads a key file that is still being written.
    const staged = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(staged, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(staged, file);
      return { key, origin: `key file "${file}"` };
    } catch (raced) {
      // Another process opening the same new store wrote it first: use theirs.
      if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw raced;
      return fromFile(file, storePath, storeHasEncryptedData);
    } finally {
      rmSync(staged, { force: true });
    }
  }
  if ((mode & 0o077) !== 0) {
    throw new EncryptionError(
      `state key file "${file}" is readable by others (mode ${(mode & 0o777).toString(8)}): run chmod 600 "${file}"`,
    );
  }
  return { key: decodeKey(readFileSync(file, 'utf8').trim(), `key file "${file}"`), origin: `key file "${file}"` };
}

function decodeKey(text: string, where: string): Buffer {
  const key = Buffer.from(text, 'base64');
  if (key.length !== KEY_BYTES || key.toString('base64') !== text.replace(/\s+/g, '')) {
    throw new EncryptionError(`${where} must hold the base64 of exactly ${KEY_BYTES} bytes (openssl rand -base64 32)`);
  }
  return key;
}

function checkLength(key: Buffer, where: string): Buffer {
  if (key.length !== KEY_BYTES) throw new EncryptionError(`${where} must be ${KEY_BYTES} bytes, got ${key.length}`);
  return key;
}
