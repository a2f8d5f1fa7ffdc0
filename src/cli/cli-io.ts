// What a trustctl command may touch of the world it runs in: its output streams, its environment, its working directory,
// its input, its exit code and the signals that stop it. Commands take these from an injected CliIo rather than from
// `process`, so the same command runs as the process's own (processIo) or inside a test or another program (bufferIo).
import { EventEmitter } from 'node:events';
import { isAbsolute, resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';

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

const STOP_SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM'];

/** `path` as given on the command line, made absolute against the command's working directory. */
export function inCwd(place: CliPlace, path: string): string {
  return isAbsolute(path) ? path : resolve(place.cwd, path);
}

/** The process's environment and directory: the default of helpers `serve` shares, which runs only as a process. */
export function processPlace(): CliPlace {
  return { env: process.env, cwd: process.cwd() };
}

/** The process's own streams, environment, directory, exit code and signals: what `trustctl` on a shell gets. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    // the process's own, so `serve` (which still sets process.exitCode itself) and the commands agree on one code
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

/** A CliIo that keeps what was written, for running a command in process; `stop()` plays the part of Ctrl-C. */
export interface BufferedIo extends CliIo {
  readonly written: { stdout: string; stderr: string };
  /** Resolves once what was written to `stream` satisfies `seen` (a following command's output, awaited not polled). */
  printed(stream: 'stdout' | 'stderr', seen: (text: string) => boolean): Promise<void>;
  /** Asks a running command to stop, as SIGINT would (`signal` SIGTERM as a service manager would). */
  stop(signal?: StopSignal): void;
  /** How many stop listeners are registered: a command that ended must have removed its own. */
  stopListeners(): number;
}

export function bufferIo(place: CliPlace, stdin: string = ''): BufferedIo {
  const written = { stdout: '', stderr: '' };
  const waiters = new Set<() => void>();
  const sink = (name: 'stdout' | 'stderr') =>
    new Writable({
      decodeStrings: false,
      write(chunk: string | Buffer, _encoding, done) {
        written[name] += chunk.toString();
        for (const check of [...waiters]) check();
        done();
      },
    });
  const signals = new EventEmitter();
  return {
    env: place.env,
    cwd: place.cwd,
    stdout: sink('stdout'),
    stderr: sink('stderr'),
    stdin: Readable.from(stdin === '' ? [] : [stdin]),
    exitCode: 0,
    written,
    printed(stream, seen) {
      return new Promise((resolve) => {
        const check = () => {
          if (!seen(written[stream])) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
    onStop(listener, on = STOP_SIGNALS) {
      for (const s of on) signals.on(s, listener);
      return () => {
        for (const s of on) signals.off(s, listener);
      };
    },
    stop(signal = 'SIGINT') {
      signals.emit(signal);
    },
    stopListeners() {
      return STOP_SIGNALS.reduce((n, s) => n + signals.listenerCount(s), 0);
    },
  };
}
