// Progress for slow steps (RSA-4096 keys take seconds): a spinner line on a terminal, silence when piped.
import type { CliOutput } from './cli-io.js';

export interface Progress {
  step(message: string): void;
  done(): void;
}

const FRAMES = ['|', '/', '-', '\\'];

export function createProgress(stream: CliOutput): Progress {
  if (!stream.isTTY) return { step: () => undefined, done: () => undefined };
  let message = '';
  let frame = 0;
  const draw = () => stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${message}`);
  const timer = setInterval(draw, 120);
  timer.unref();
  return {
    step(next) {
      message = next;
      draw();
    },
    done() {
      clearInterval(timer);
      stream.write('\r\x1b[2K');
    },
  };
}

/** Runs slow work with a progress line that each step updates; the line is cleared however the work ends. */
export async function withProgress<T>(stream: CliOutput, work: (step: (message: string) => void) => Promise<T>): Promise<T> {
  const progress = createProgress(stream);
  try {
    return await work((m) => progress.step(m));
  } finally {
    progress.done();
  }
}
