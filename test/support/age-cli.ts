// The real age CLI (Debian's age package) as the judge of trustctl's age files: keys made by age-keygen, files
// encrypted by `age -r` and decrypted by `age -d`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AgeKey {
  /** age-keygen's key file: comments and one AGE-SECRET-KEY-1... line. */
  file: string;
  recipient: string;
  secret: string;
}

export function ageKeygen(dir: string, name: string): AgeKey {
  const file = join(dir, name);
  execFileSync('age-keygen', ['-o', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const recipient = execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim();
  const secret = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1')) ?? '';
  return { file, recipient, secret };
}

/** `age [-a] -r R... -o out in`. */
export function ageEncrypt(recipients: readonly string[], input: string, output: string, armored: boolean): void {
  execFileSync('age', [...(armored ? ['-a'] : []), ...recipients.flatMap((r) => ['-r', r]), '-o', output, input], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** `age -d -i key file`: throws (with age's stderr) when age refuses. */
export function ageDecrypt(keyFile: string, file: string): string {
  return execFileSync('age', ['-d', '-i', keyFile, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
