// Reading an input file that may be age-encrypted: the one place every command that reads a secrets bundle or a machine
// config goes through. A plain file is returned as it is, without loading the age library; an encrypted one is opened
// with the identities of --age-identity, else $TRUSTPLANE_AGE_IDENTITY, else $SOPS_AGE_KEY_FILE.
import { readFile } from 'node:fs/promises';
import { isAgeEncrypted } from '../config/age-header.js';
import type { AgeIdentities } from '../config/age-file.js';
import { AGE_IDENTITY_ENV } from './constants.js';
import { inCwd } from './cli-io.js';
import type { CliEnv, CliPlace } from './cli-io.js';
import type { AgeIdentityFlags } from './age-flags.js';

export interface InputFile {
  path: string;
  /** How errors name the file: `machine config "cp.yaml"`. */
  label: string;
  /** The error to throw when the file itself cannot be read (each command words its own, with its way out). */
  unreadable: (err: NodeJS.ErrnoException) => Error;
}

export async function readInputFile(input: InputFile, flags: AgeIdentityFlags, place: CliPlace): Promise<string> {
  let data: Buffer;
  try {
    data = await readFile(inCwd(place, input.path));
  } catch (err) {
    throw input.unreadable(err as NodeJS.ErrnoException);
  }
  if (!isAgeEncrypted(data)) return data.toString('utf8');
  const sources = identitySources(flags, place.env);
  if (sources.length === 0)
    throw new Error(
      `${input.label} is age-encrypted but no age identity was given: pass --age-identity FILE (an age-keygen key file), or set ${AGE_IDENTITY_ENV.map((e) => `$${e}`).join(' or ')} to one`,
    );
  const age = await import('../config/age-file.js');
  return Buffer.from(await age.decryptAgeFile(data, await loadIdentities(sources, place), input.label)).toString('utf8');
}

async function loadIdentities(sources: readonly { path: string; from: string }[], place: CliPlace): Promise<AgeIdentities[]> {
  const { parseAgeIdentities } = await import('../config/age-file.js');
  const keys: AgeIdentities[] = [];
  for (const { path, from } of sources) {
    // a key given where its file's path belongs: say so without quoting it
    if (/^AGE-SECRET-KEY-/i.test(path.trim())) throw new Error(`${from} holds an age secret key itself; give the path of a file holding it (as age-keygen -o writes it)`);
    const source = `age identity file "${path}" (from ${from})`;
    keys.push({ source, identities: parseAgeIdentities(await readKeyFile(path, source, place), source) });
  }
  return keys;
}

function identitySources(flags: AgeIdentityFlags, env: CliEnv): { path: string; from: string }[] {
  if (flags.ageIdentity && flags.ageIdentity.length > 0) return flags.ageIdentity.map((path) => ({ path, from: '--age-identity' }));
  for (const name of AGE_IDENTITY_ENV) {
    const path = env[name];
    if (path) return [{ path, from: `$${name}` }];
  }
  return [];
}

/** An identity or recipients file; `source` names it and where it was given. */
export async function readKeyFile(path: string, source: string, place: CliPlace): Promise<string> {
  try {
    return await readFile(inCwd(place, path), 'utf8');
  } catch (err) {
    throw new Error(`${source} cannot be read: ${readProblem(err as NodeJS.ErrnoException)}`);
  }
}

/** `--with-secrets: cannot read "x": no such file`. */
export function cannotRead(flag: string, path: string, err: NodeJS.ErrnoException): Error {
  return new Error(`${flag}: cannot read "${path}": ${readProblem(err)}`);
}

function readProblem(err: NodeJS.ErrnoException): string {
  return err.code === 'ENOENT' ? 'no such file' : err.message;
}
