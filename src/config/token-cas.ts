// CAs whose keys live in a PKCS#11 token, as config sees them: made in the token (gen secrets), and loaded from a
// bundle or machine config entry whose key field holds the key's pkcs11: URI (every command that signs with a CA).
import { readFileSync } from 'node:fs';
import { caFromSigner, createCAWithSigner, parseCertificatePem } from '../pki/index.js';
import type { CaProfile, KeyAlgorithm, SigningCA } from '../pki/index.js';
import { destroyTokenKey, formatPkcs11Uri, generateTokenKey, importTokenKey, isPkcs11Uri, parsePkcs11Uri, Pkcs11Token, tokenSigner } from '../pki/pkcs11/index.js';
import type { Pkcs11Uri } from '../pki/pkcs11/index.js';
import { memoryCaOf } from './ca-entry.js';
import { ConfigError } from './config-error.js';
import type { PemCertAndKey } from './secrets-bundle.js';

/** Where the token is: the library, the token's label and a file holding the user PIN. */
export interface Pkcs11Settings {
  module: string;
  token: string;
  pinFile: string;
}

/** The PIN from its file, without the trailing newline an editor or `echo` leaves. */
export function readPin(settings: Pkcs11Settings): string {
  let text: string;
  try {
    text = readFileSync(settings.pinFile, 'utf8');
  } catch (err) {
    throw new ConfigError(settings.pinFile, `cannot read the PKCS#11 PIN file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); write the token's user PIN there, mode 0600`);
  }
  const pin = text.replace(/\r?\n$/, '');
  if (!pin) throw new ConfigError(settings.pinFile, "the PKCS#11 PIN file is empty; write the token's user PIN there");
  return pin;
}

export function openToken(settings: Pkcs11Settings): Pkcs11Token {
  return Pkcs11Token.open({ module: settings.module, token: settings.token, pin: readPin(settings) });
}

export type NewCA = (profile: CaProfile, algorithm: KeyAlgorithm, now: Date) => Promise<PemCertAndKey>;

/**
 * Makes CAs with their keys in `token`: the bundle entry holds the certificate and the key's URI. `undo` removes every
 * key made so far, so a generation that fails half-way leaves the token as it found it.
 */
export interface TokenCaMaker {
  newCA: NewCA;
  /** Moves a CA's PEM key into the token (--pkcs11-import): the entry comes back holding the key's URI. */
  importCA: (pair: PemCertAndKey, profile: CaProfile, field: string) => PemCertAndKey;
  undo: () => void;
}

export function tokenCaMaker(token: Pkcs11Token, rsaBits = 4096): TokenCaMaker {
  const made: Pkcs11Uri[] = [];
  const newCA: NewCA = async (profile, algorithm, now) => {
    const key = await generateTokenKey(token, { algorithm, label: `trustplane ${profile} CA`, rsaBits });
    made.push(key.uri);
    const ca = await createCAWithSigner(profile, tokenSigner(token, key.uri, key.publicKey), { now });
    return { crt: ca.certPem, key: formatPkcs11Uri(key.uri) };
  };
  const importCA = (pair: PemCertAndKey, profile: CaProfile, field: string): PemCertAndKey => {
    if (isPkcs11Uri(pair.key)) return pair;
    const key = importTokenKey(token, memoryCaOf(pair, field).key, `trustplane ${profile} CA`);
    made.push(key.uri);
    const entry = { crt: pair.crt, key: formatPkcs11Uri(key.uri) };
    signingCaOf(entry, token, field); // the token finds the key and it matches the certificate
    return entry;
  };
  const undo = () => {
    for (const uri of made.splice(0)) destroyTokenKey(token, uri);
  };
  return { newCA, importCA, undo };
}

/**
 * The CA a bundle or machine config entry describes: a PEM key signs in memory; a pkcs11: URI signs in `token`, which
 * must be given. `field` names the entry in errors (`certs.os`, `machine.ca`).
 */
export function signingCaOf(pair: PemCertAndKey, token: Pkcs11Token | undefined, field: string): SigningCA {
  if (!token || !isPkcs11Uri(pair.key)) return memoryCaOf(pair, field);
  const cert = parseCertificatePem(pair.crt, `${field}.crt`);
  return caFromSigner(cert, tokenSigner(token, parsePkcs11Uri(pair.key, `${field}.key`), cert.publicKey));
}
