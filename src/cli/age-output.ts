// What --age-recipient and --age-recipients-file do to an output: the recipients are read and checked before anything
// is generated or written, then each output is encrypted to them (ASCII-armored) before it reaches the disk or stdout.
import type { AgeRecipientFlags } from './age-flags.js';
import type { CliPlace } from './cli-io.js';
import { readKeyFile } from './input-file.js';

/** Plaintext in, what to write out. */
export type Seal = (plaintext: string) => Promise<string>;

/** With no recipient given, the text goes out unchanged (and the age library is never loaded). */
export async function ageSeal(flags: AgeRecipientFlags, place: CliPlace): Promise<Seal> {
  const given = flags.ageRecipient ?? [];
  const files = flags.ageRecipientsFile ?? [];
  if (given.length === 0 && files.length === 0) return async (plaintext) => plaintext;
  const age = await import('../config/age-file.js');
  const recipients: string[] = [];
  for (const value of given) {
    const problem = age.ageRecipientProblem(value.trim());
    if (problem) throw new Error(`--age-recipient: ${problem}`);
    recipients.push(value.trim());
  }
  for (const path of files) {
    const source = `--age-recipients-file "${path}"`;
    recipients.push(...age.parseAgeRecipients(await readKeyFile(path, source, place), source));
  }
  return async (plaintext) => age.encryptArmored(plaintext, recipients);
}
