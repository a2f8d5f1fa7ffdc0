// Assembles the trustctl command tree; each command group lives in its own file and registers itself here.
import { Command } from 'commander';
import { registerApplyConfigCommand } from './apply-config.js';
import { registerAuditCommand } from './audit.js';
import { registerCheckCommand } from './check.js';
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

export function buildProgram(): Command {
  const program = new Command('trustctl')
    .description('trustplane: the Talos PKI as a declarative control plane')
    .version('0.1.0')
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  addRemoteOptions(program);
  registerGenCommands(program);
  registerConfigCommands(program);
  registerInspectCommands(program);
  registerServeCommand(program);
  registerGetCommand(program);
  registerApplyConfigCommand(program);
  registerVersionCommand(program);
  registerEtcdCommands(program);
  registerPatchCommand(program);
  registerRotateCaCommand(program);
  registerCheckCommand(program);
  registerAuditCommand(program);
  registerLogsCommand(program);
  registerTokenCommands(program);
  registerRevokeCommands(program);
  return program;
}
