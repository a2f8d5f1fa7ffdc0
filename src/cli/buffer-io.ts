// A CliIo held in memory, for running a command in process (tests, or a program embedding trustctl): what the command
// writes is kept, its input is a given string, and stop() plays the part of Ctrl-C. Kept apart from cli-io.ts so the
// trustctl process never loads it.
import { EventEmitter } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { STOP_SIGNALS } from './cli-io.js';
import type { CliIo, CliPlace, StopSignal } from './cli-io.js';

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
