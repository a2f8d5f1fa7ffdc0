// Runs trustctl in a temp dir with its own HOME and TALOSCONFIG (tests never touch ~/.talos): in process by default,
// through runTrustctl with the sandbox's directory and environment, or as a child process (runProcess) where the process
// boundary itself is under test (a long-running serve, signals, stdin, what loads at start-up).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bufferIo } from '../../../src/cli/buffer-io.js';
import { runTrustctl } from '../../../src/cli/program.js';

// The package's bin: the bundle `npm run build` makes of src/cli/main.ts (scripts/bundle.mjs).
export const CLI = resolve(process.cwd(), 'dist/bundle/trustctl.js');

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

  /** The environment a command sees: only PATH, the sandbox's HOME and TALOSCONFIG, and `extra`. */
  env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    return { PATH: process.env.PATH, HOME: this.home, TALOSCONFIG: this.talosconfig, ...extra };
  }

  /** `trustctl args...` in this process, as if run in the sandbox's directory with env(extra). */
  async run(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
    // A long-running serve waits for a signal to the process: in here that would be the test runner. serve --once runs
    // to its end, releases the state directory and returns, like any command.
    if (args.includes('serve') && !args.includes('--help') && !args.includes('--once')) {
      throw new Error(`trustctl ${args.join(' ')}: a long-running serve runs only as a process; use runProcess (or --once)`);
    }
    const io = bufferIo({ env: this.env(env), cwd: this.dir });
    const code = await runTrustctl(args, io);
    return { code, stdout: io.written.stdout, stderr: io.written.stderr };
  }

  /** `trustctl args...` as a child process: for a long-running serve and process-boundary tests. */
  runProcess(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        cwd: this.dir,
        env: this.env(env),
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
