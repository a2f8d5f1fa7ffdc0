// What a trustctl command may touch of the world it runs in: its output streams, its environment, its working directory,
// its input, its exit code and the signals that stop it. Commands take these from an injected CliIo rather than from
// `process`, so the same command runs as the process's own (processIo) or inside a test or another program (bufferIo,
// buffer-io.ts).
import { isAbsolute, resolve } from 'node:path';

export type CliEnv = Readonly<Record<string, string | undefined>>;

/** Where relative paths and default locations come from: enough for helpers that read or write files. */
export interface CliPlace {
  readonly env: CliEnv;
  /** Relative paths on the command line resolve against this directory. */
  readonly cwd: string;
}

/** A stream commands write to; `isTTY` decides whether a progress line is drawn. */
export type CliOutput = Pick<NodeJS.WritableStream, 'write' | 'once' | 'off'> & { readonly isTTY?: boolean };

export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface CliIo extends CliPlace {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  readonly stdin: NodeJS.ReadableStream;
  /** The exit code a command asks for without failing (2: unhealthy; 1: some nodes failed); 0 unless set. */
  exitCode: number;
  /**
   * Calls `listener` when the command is asked to stop (Ctrl-C, SIGTERM; in process: the caller's interrupt) and
   * answers the function that stops listening. A command that follows something until stopped must call it.
   */
  onStop(listener: () => void, signals?: readonly StopSignal[]): () => void;
}

export const STOP_SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM'];

/** `path` as given on the command line, made absolute against the command's working directory. */
export function inCwd(place: CliPlace, path: string): string {
  return isAbsolute(path) ? path : resolve(place.cwd, path);
}

/** The process's environment and directory: the default of helpers called without a command's own io. */
export function processPlace(): CliPlace {
  return { env: process.env, cwd: process.cwd() };
}

/** The process's own streams, environment, directory, exit code and signals: what `trustctl` on a shell gets. */
export function processIo(): CliIo {
  return {
    // getters: Node makes each stream on first use, and opening stdin for a command that never reads it costs start-up
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    cwd: process.cwd(),
    // the process's own, so serve's signal handling (which sets process.exitCode when stopping fails) and the commands
    // agree on one code
    get exitCode() {
      return typeof process.exitCode === 'number' ? process.exitCode : 0;
    },
    set exitCode(code: number) {
      process.exitCode = code;
    },
    onStop(listener, signals = STOP_SIGNALS) {
      for (const s of signals) process.on(s, listener);
      return () => {
        for (const s of signals) process.off(s, listener);
      };
    },
  };
}
