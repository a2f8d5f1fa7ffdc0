// `trustctl logs <apid|trustd|controller-runtime> [-f] [--tail N]`: a node's service log lines over the API, like
// `talosctl logs` (os:operator or os:admin). With several nodes (-n a,b) each line is prefixed with its node; -f
// follows every node until Ctrl-C. The API client loads only when the command runs.
import type { Command } from 'commander';
import type { LogLine } from '../server/apid/api-paths.js';
import type { ServiceName } from '../server/service-logs.js';
import type { RemoteTarget } from './api-client.js';
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
      await printLogs(service, opts, remoteTargetOf(cmd), io);
    });
}

export async function printLogs(service: ServiceName, opts: LogsOptions, target: RemoteTarget, io: CliIo): Promise<void> {
  const { connectApi } = await import('./api-client.js');
  const { paths } = await import('../server/apid/api-paths.js');
  const { client, nodes } = await connectApi(target, io);
  const query = new URLSearchParams({ tail: String(opts.tail), ...(opts.follow ? { follow: 'true' } : {}) });
  const path = `${paths.logs(service)}?${query.toString()}`;
  const stop = new AbortController();
  // Ctrl-C only, as before: SIGTERM keeps its default of ending the process at once.
  const stopListening = io.onStop(() => stop.abort(), ['SIGINT']);
  try {
    const asked = nodes.length > 0 ? nodes : [undefined];
    const failures = await Promise.all(
      asked.map(async (node) => {
        const prefix = asked.length > 1 && node ? `${node}: ` : '';
        let ended: string | undefined;
        const handle = client.stream<LogLine>(
          path,
          (line) => {
            if ('line' in line) io.stdout.write(`${prefix}${line.line}\n`);
            else ended = line.error;
          },
          node ? { node } : {},
          'log stream',
        );
        stop.signal.addEventListener('abort', () => handle.close(), { once: true });
        try {
          await handle.done;
          if (ended) throw new Error(ended);
          return undefined;
        } catch (err) {
          return `${prefix}${(err as Error).message}`;
        }
      }),
    );
    const failed = failures.filter((f): f is string => f !== undefined);
    if (failed.length === asked.length && failed.length === 1) throw new Error(failed[0]);
    for (const f of failed) io.stderr.write(`error: ${f}\n`);
    if (failed.length > 0) io.exitCode = 1;
  } finally {
    stopListening();
    client.close();
  }
}

function tailOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < -1) throw new Error(`--tail: expected a number of lines (or -1 for all), got ${JSON.stringify(value)}`);
  return n;
}
