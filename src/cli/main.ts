#!/usr/bin/env node
// trustctl: the command line of trustplane, shaped like talosctl, run with the process's own streams and exit code.
import { processIo } from './cli-io.js';
import { runTrustctl } from './program.js';

void runTrustctl(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
