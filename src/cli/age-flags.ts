// The age flags of the commands that read or write secrets: declared here, without the age library, so that declaring
// them costs nothing at start-up (input-file.ts and age-output.ts load the library only when a file or flag needs it).
import { Option } from 'commander';
import { AGE_IDENTITY_ENV } from './constants.js';

export interface AgeIdentityFlags {
  ageIdentity?: string[];
}

export interface AgeRecipientFlags {
  ageRecipient?: string[];
  ageRecipientsFile?: string[];
}


export function ageIdentityOption(): Option {
  return new Option(
    '--age-identity <file>',
    `age identity file (as age-keygen writes it) for an age-encrypted input (repeatable; default: ${AGE_IDENTITY_ENV.map((e) => `$${e}`).join(', then ')})`,
  ).argParser(collect);
}

export function ageRecipientOption(what: string): Option {
  return new Option('--age-recipient <recipient>', `encrypt ${what} with age to this recipient (age1..., repeatable), ASCII-armored`).argParser(collect);
}

export function ageRecipientsFileOption(): Option {
  return new Option('--age-recipients-file <file>', 'encrypt to the age recipients in this file, one a line (repeatable)').argParser(collect);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
