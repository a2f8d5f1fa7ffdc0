// `trustctl gen ...`: offline generation of a secrets bundle, machine configs and a talosconfig, like `talosctl gen`.
// Each subcommand is its own file (gen-secrets.ts, gen-config.ts) and loads what it does only when it runs.
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { registerGenConfigCommand } from './gen-config.js';
import { registerGenSecretsCommand } from './gen-secrets.js';

export function registerGenCommands(program: Command, io: CliIo): void {
  const gen = program.command('gen').description('Generate secrets bundles, machine configs and talosconfigs (offline)');
  registerGenSecretsCommand(gen, io);
  registerGenConfigCommand(gen, io);
}
