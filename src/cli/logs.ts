// `trustctl logs <apid|trustd|controller-runtime> [-f] [--tail N]`: a node's service log lines over the API, like
// `talosctl logs` (os:operator or os:admin). With several nodes (-n a,b) each line is prefixed with its node; -f
// follows every node until Ctrl-C.
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { SERVICE_NAMES, isServiceName } from '../server/service-logs.js';
import { remoteTargetOf } from './remote-target.js';

export interface LogsOptions {
  follow?: boolean;
  tail: number;
}

export function registerLogsCommand(program: Command, io: CliIo): void {
  program
    .command('logs')
    .description(`Print a service's log lines from nodes over the API (services: ${SERVICE_NAMES.join(', ')})`)
    .argument('<service>', `the service: ${SERVICE_NAMES.join(', ')}`)
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .option('--tail <lines>', 'lines to show from the end of the log (-1: all it keeps)', tailOption, -1)
    .action(async (service: string, opts: LogsOptions, cmd: Command) => {
      if (!isServiceName(service)) throw new Error(`logs: no service ${JSON.stringify(service)}: the services with logs are ${SERVICE_NAMES.join(', ')}`);
      const { printLogs } = await import('./logs-action.js');
      await printLogs(service, opts, remoteTargetOf(cmd), io);
    });
}

function tailOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < -1) throw new Error(`--tail: expected a number of lines (or -1 for all), got ${JSON.stringify(value)}`);
  return n;
}
