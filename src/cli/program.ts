// Assembles the trustctl command tree and runs it against an injected CliIo; each command group lives in its own file
// and registers itself here. Nothing here exits the process: main.ts does that with the code runTrustctl answers.
import { Command, CommanderError } from 'commander';
import { registerApplyConfigCommand } from './apply-config.js';
import { registerAuditCommand } from './audit.js';
import { registerCheckCommand } from './check.js';
import type { CliIo } from './cli-io.js';
import { registerConfigCommands } from './config.js';
import { registerGenCommands } from './gen.js';
import { registerGetCommand } from './get.js';
import { registerInspectCommands } from './inspect.js';
import { registerLogsCommand } from './logs.js';
import { registerPatchCommand } from './patch.js';
import { registerEtcdCommands } from './remote-etcd-snapshot.js';
import { addRemoteOptions } from './remote-target.js';
import { registerVersionCommand } from './remote-version.js';
import { registerRevokeCommands } from './revoke.js';
import { registerRotateCaCommand } from './rotate-ca.js';
import { registerServeCommand } from './serve.js';
import { registerTokenCommands } from './token.js';

/** A fresh tree per run: commander keeps parsed options on the commands, so a tree is never parsed twice. */
export function buildProgram(io: CliIo): Command {
  // Set before any command is added: subcommands copy the output and exit settings of their parent when created.
  const program = new Command('trustctl')
    .description('trustplane: the Talos PKI as a declarative control plane')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  addRemoteOptions(program);
  registerGenCommands(program, io);
  registerConfigCommands(program, io);
  registerInspectCommands(program);
  registerServeCommand(program, io);
  registerGetCommand(program, io);
  registerApplyConfigCommand(program, io);
  registerVersionCommand(program, io);
  registerEtcdCommands(program, io);
  registerPatchCommand(program, io);
  registerRotateCaCommand(program, io);
  registerCheckCommand(program, io);
  registerAuditCommand(program, io);
  registerLogsCommand(program, io);
  registerTokenCommands(program, io);
  registerRevokeCommands(program, io);
  return program;
}

/**
 * Runs one trustctl command line (`argv` without node and the script) and answers its exit code: 0, the code the
 * command set (2: unhealthy), commander's for usage errors and --help, or 1 after printing a failure's message.
 */
export async function runTrustctl(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv], { from: 'user' });
    return io.exitCode;
  } catch (err) {
    // commander printed its own message (usage error, --help, --version) before throwing
    if (err instanceof CommanderError) return err.exitCode;
    io.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return io.exitCode || 1;
  }
}
