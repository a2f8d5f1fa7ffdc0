// The PKCS#11 flags of the commands that make or use CA keys (gen secrets, gen config, config new, serve): declared
// here without the binding, which loads only when a token is actually used. Each flag falls back to its variable.
import { Option } from 'commander';
import type { Pkcs11Settings } from '../config/token-cas.js';
import { PKCS11_ENV } from './constants.js';

export interface Pkcs11Flags {
  pkcs11Module?: string;
  pkcs11Token?: string;
  pkcs11PinFile?: string;
}

const FLAGS = [
  ['pkcs11Module', '--pkcs11-module', PKCS11_ENV.module],
  ['pkcs11Token', '--pkcs11-token', PKCS11_ENV.token],
  ['pkcs11PinFile', '--pkcs11-pin-file', PKCS11_ENV.pinFile],
] as const;

export function pkcs11Options(): Option[] {
  return [
    new Option('--pkcs11-module <lib>', `PKCS#11 library holding the CA keys, e.g. /usr/lib/softhsm/libsofthsm2.so (default: $${PKCS11_ENV.module})`),
    new Option('--pkcs11-token <label>', `label of the PKCS#11 token holding the CA keys (default: $${PKCS11_ENV.token})`),
    new Option('--pkcs11-pin-file <file>', `file holding the token's user PIN (default: $${PKCS11_ENV.pinFile})`),
  ];
}

/** The token settings from the flags or the environment; undefined when none is set; an error when only some are. */
export function pkcs11Settings(flags: Pkcs11Flags, env: Readonly<Record<string, string | undefined>> = process.env): Pkcs11Settings | undefined {
  const values = FLAGS.map(([key, , variable]) => flags[key] ?? env[variable] ?? '');
  if (values.every((v) => v === '')) return undefined;
  const missing = FLAGS.filter((_, i) => values[i] === '').map(([, flag, variable]) => `${flag} (or ${variable})`);
  if (missing.length) throw new Error(`PKCS#11: ${missing.join(' and ')} missing; a token needs all three of --pkcs11-module, --pkcs11-token and --pkcs11-pin-file`);
  const [module, token, pinFile] = values;
  return { module, token, pinFile };
}
