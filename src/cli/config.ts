// `trustctl config ...`: the client configuration (talosconfig) commands of talosctl, with `config new` working offline
// from a secrets bundle or a control plane machine config. Each subcommand (or pair of mirror subcommands) is its own
// file and loads what it does only when it runs.
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { registerConfigAddCommand } from './config-add.js';
import { registerConfigContextsCommands, registerConfigMergeCommand } from './config-contexts.js';
import { registerConfigEndpointCommands } from './config-endpoints.js';
import { registerConfigInfoCommand } from './config-info.js';
import { registerConfigNewCommand } from './config-new.js';
import { registerConfigRemoveCommand } from './config-remove.js';

export function registerConfigCommands(program: Command, io: CliIo): void {
  const config = program.command('config').description('Manage the client configuration file (talosconfig)');
  // the order of --help: as it was when one file declared them all
  registerConfigInfoCommand(config, io);
  registerConfigContextsCommands(config, io);
  registerConfigEndpointCommands(config, io);
  registerConfigAddCommand(config, io);
  registerConfigRemoveCommand(config, io);
  registerConfigMergeCommand(config, io);
  registerConfigNewCommand(config, io);
}
