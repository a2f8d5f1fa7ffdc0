#!/usr/bin/env node
// trustctl: the command line of trustplane, shaped like talosctl.
import { buildProgram } from './program.js';

const program = buildProgram();
program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = process.exitCode || 1;
});
