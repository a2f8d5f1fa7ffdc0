// `trustctl version`: the client's version and, unless --client, each node's (over the API), laid out like talosctl's.
import type { Command } from 'commander';
// api-paths.js, not the apid index: `version --client` must not load the server.
import { TRUSTPLANE_VERSION, paths } from '../server/apid/api-paths.js';
import type { VersionInfo } from '../server/apid/api-paths.js';
import type { CliIo } from './cli-io.js';
import { remoteTargetOf } from './remote-target.js';

export function registerVersionCommand(program: Command, io: CliIo): void {
  program
    .command('version')
    .description('Print the client version and the version of each node')
    .option('--client', 'print the client version only')
    .action(async (opts: { client?: boolean }, cmd: Command) => {
      io.stdout.write(`Client:\n\tTag:         v${TRUSTPLANE_VERSION}\n`);
      if (opts.client) return;
      const { connectApi } = await import('./api-client.js');
      const { client, nodes } = await connectApi(remoteTargetOf(cmd), io);
      try {
        io.stdout.write('Server:\n');
        for (const node of nodes.length > 0 ? nodes : [undefined]) {
          const label = node ?? client.endpoint.host;
          try {
            const v = await client.call<VersionInfo>('GET', paths.version, node ? { node } : {});
            io.stdout.write(`\tNODE:        ${label}\n\tTag:         v${v.version}\n\tAPI:         ${v.apiVersion}\n`);
          } catch (err) {
            io.stderr.write(`error: ${label}: ${(err as Error).message}\n`);
            io.exitCode = 1;
          }
        }
      } finally {
        client.close();
      }
    });
}
