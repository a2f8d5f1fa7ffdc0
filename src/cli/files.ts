// Writing output files safely: refuse to overwrite without --force, write through a temp file and rename (so a
// failure never leaves a half-written file), secrets 0600 and new directories 0700.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface OutputFile {
  path: string;
  data: string;
  /** Default 0600: everything trustctl writes holds a key or a token. */
  mode?: number;
}

/** `path` as the user gave it (for the message), `at` where it is (absolute against the command's directory). */
export function refuseOverwrite(path: string, force: boolean, at: string = path): void {
  if (!force && existsSync(at)) throw new Error(`file "${path}" already exists, use --force to overwrite`);
}

export async function writeFileAtomic(file: OutputFile): Promise<void> {
  const mode = file.mode ?? 0o600;
  const dir = dirname(file.path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${basename(file.path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, file.data, { mode, flag: 'wx' });
    await chmod(temp, mode); // the umask may have narrowed or the mode; set it exactly
    await rename(temp, file.path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * Writes several files as one step: every overwrite check runs before the first write, and if a later write fails the
 * files created by this call are removed again.
 */
export async function writeFilesAtomic(files: readonly OutputFile[], force: boolean): Promise<void> {
  for (const f of files) refuseOverwrite(f.path, force);
  const created: string[] = [];
  try {
    for (const f of files) {
      const existed = existsSync(f.path);
      await writeFileAtomic(f);
      if (!existed) created.push(f.path);
    }
  } catch (err) {
    await Promise.all(created.map((p) => rm(p, { force: true })));
    throw err;
  }
}
