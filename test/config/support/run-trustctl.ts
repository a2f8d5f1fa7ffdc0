// Runs the built CLI as a child process in a temp dir with its own HOME and TALOSCONFIG: tests never touch ~/.talos.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CLI = resolve(process.cwd(), 'dist/src/cli/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'trustctl-test-'));
  readonly home = join(this.dir, 'home');
  readonly talosconfig = join(this.dir, 'home', '.talos', 'config');

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  run(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        cwd: this.dir,
        env: { PATH: process.env.PATH, HOME: this.home, TALOSCONFIG: this.talosconfig, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', fail);
      child.on('close', (code) => done({ code, stdout, stderr }));
    });
  }

  /** Every file under the sandbox (relative paths), to prove a failed command wrote nothing. */
  files(): string[] {
    const walk = (dir: string, prefix: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const full = join(dir, name);
        return statSync(full).isDirectory() ? walk(full, `${prefix}${name}/`) : [`${prefix}${name}`];
      });
    return walk(this.dir, '');
  }

  mode(...parts: string[]): number {
    return statSync(this.path(...parts)).mode & 0o777;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
