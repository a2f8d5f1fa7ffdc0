// `trustctl etcd snapshot FILE`: a consistent copy of a node's store over the API (os:etcd:backup, operator or admin),
// written 0600. Sensitive specs stay sealed in it: restoring needs the node's key file as well.
import { chmod, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { paths } from '../server/apid/api-paths.js';
import { inCwd } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { refuseOverwrite } from './files.js';
import { remoteTargetOf } from './remote-target.js';

export function registerEtcdCommands(program: Command, io: CliIo): void {
  program
    .command('etcd')
    .description("Back up a node's store")
    .command('snapshot')
    .description("Save a consistent snapshot of a node's store (secrets stay encrypted with the node's key)")
    .argument('<path>', 'where to write the snapshot')
    .option('--force', 'overwrite an existing file')
    .action(async (path: string, opts: { force?: boolean }, cmd: Command) => {
      const at = inCwd(io, path);
      refuseOverwrite(path, Boolean(opts.force), at);
      const { connectApi } = await import('./api-client.js');
      const { client, nodes } = await connectApi(remoteTargetOf(cmd), io);
      try {
        if (nodes.length > 1) throw new Error(`etcd snapshot saves one node's store: pass one node with -n (got ${nodes.join(', ')})`);
        const data = await client.download(paths.etcdSnapshot, nodes[0] ? { node: nodes[0] } : {});
        await writeFile(at, data, { mode: 0o600, flag: opts.force ? 'w' : 'wx' });
        await chmod(at, 0o600);
        io.stderr.write(`snapshot saved to "${path}" (${data.length} bytes)\n`);
      } finally {
        client.close();
      }
    });
}
