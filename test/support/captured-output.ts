// Runs a CLI action in process, returning what it wrote to stdout and stderr and the exit code it set (then cleared),
// for tests that want a command's output without spawning trustctl.
export async function captured(action: () => Promise<unknown>): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let stdout = '';
  let stderr = '';
  process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    await action();
    return { stdout, stderr, exitCode: Number(process.exitCode ?? 0) };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = undefined;
  }
}
