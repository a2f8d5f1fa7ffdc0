// Runs a CLI action in process against a buffered CliIo, returning what it wrote to stdout and stderr and the exit code
// it set, for tests that want a command's output without spawning trustctl.
import { bufferIo } from '../../src/cli/buffer-io.js';
import type { CliIo, CliPlace } from '../../src/cli/cli-io.js';

/** Absolute paths only, and no environment: what the tests that use it pass. */
export const TEST_PLACE: CliPlace = { env: {}, cwd: process.cwd() };

export async function captured(action: (io: CliIo) => Promise<unknown>, place: CliPlace = TEST_PLACE): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const io = bufferIo(place);
  await action(io);
  return { stdout: io.written.stdout, stderr: io.written.stderr, exitCode: io.exitCode };
}
