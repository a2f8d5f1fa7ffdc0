// Paths to the real Talos data files; CI clones the repo with shared/ beside it, and tests run from the repo root.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const TALOS_FIXTURES = resolve(process.cwd(), '../shared/fixtures/talos');

export function fixturePath(...parts: string[]): string {
  return join(TALOS_FIXTURES, ...parts);
}

export function readFixture(...parts: string[]): string {
  return readFileSync(fixturePath(...parts), 'utf8');
}
