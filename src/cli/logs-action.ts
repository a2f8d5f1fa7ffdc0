// The action of `trustctl logs` (logs.ts declares the command), loaded only when it runs.
import { paths } from '../server/apid/api-paths.js';
import type { LogLine } from '../server/apid/api-paths.js';
import type { ServiceName } from '../server/service-logs.js';
import type { RemoteTarget } from './api-client.js';
import type { CliIo } from './cli-io.js';
import type { LogsOptions } from './logs.js';

export async function printLogs(service: ServiceName, opts: LogsOptions, target: RemoteTarget, io: CliIo): Promise<void> {
  const { connectApi } = await import('./api-client.js');
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
