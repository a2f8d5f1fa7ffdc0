// `trustctl get` over the API: the same listings as the local form with a NODE column first, read from each node
// (`-n`, forwarded by the endpoint) or from the endpoint itself. `-w` follows every node at once and reconnects with
// its last bookmark after a dropped connection.
import type { Resource, ResourceDefinition } from '../runtime/resource.js';
import { formatNodeAddress, paths } from '../server/apid/index.js';
import { connectApi } from './api-client.js';
import type { ApiClient, RemoteTarget } from './api-client.js';
import type { CliIo } from './cli-io.js';
import { WatchPrinter, formatResources } from './resource-output.js';
import type { OutputFormat } from './resource-output.js';
import { followWatch } from './remote-watch.js';

export interface RemoteGetOptions {
  namespace?: string;
  output: OutputFormat;
  watch?: boolean;
}

export async function remoteGet(def: ResourceDefinition, id: string | undefined, opts: RemoteGetOptions, target: RemoteTarget, io: CliIo): Promise<Resource[]> {
  const { client, nodes } = await connectApi(target, io);
  try {
    const asked = nodes.length > 0 ? nodes : [undefined];
    const label = (node: string | undefined) => node ?? formatNodeAddress(client.endpoint).replace(/:\d+$/, '');
    const query = opts.namespace ? `?namespace=${encodeURIComponent(opts.namespace)}` : '';
    if (opts.watch) {
      await watchNodes(client, def, asked, label, `${paths.watch(def.type, id)}${query}`, opts.output, io);
      return [];
    }
    const answers = await Promise.allSettled(
      asked.map(async (node) => {
        const path = `${paths.resources(def.type, id)}${query}`;
        const found = id === undefined ? await client.call<Resource[]>('GET', path, node ? { node } : {}) : [await client.call<Resource>('GET', path, node ? { node } : {})];
        return found.map((resource) => ({ node: label(node), resource }));
      }),
    );
    const rows: { node: string; resource: Resource }[] = [];
    answers.forEach((answer, i) => {
      if (answer.status === 'fulfilled') rows.push(...answer.value);
      else {
        io.stderr.write(`error: ${label(asked[i])}: ${answer.reason instanceof Error ? answer.reason.message : String(answer.reason)}\n`);
        io.exitCode = 1;
      }
    });
    if (rows.length === 0 && answers.every((a) => a.status === 'rejected')) return [];
    if (rows.length === 0 && opts.output === 'table') io.stderr.write(`no ${def.type} found\n`);
    else {
      const single = id !== undefined && asked.length === 1;
      io.stdout.write(formatResources(def, rows.map((r) => r.resource), opts.output, single, rows.map((r) => r.node)));
    }
    return rows.map((r) => r.resource);
  } finally {
    client.close();
  }
}

async function watchNodes(client: ApiClient, def: ResourceDefinition, nodes: (string | undefined)[], label: (n: string | undefined) => string, path: string, format: OutputFormat, io: CliIo): Promise<void> {
  const printer = new WatchPrinter(def, format, (text) => io.stdout.write(text), true);
  const stop = new AbortController();
  const stopListening = io.onStop(() => stop.abort());
  // The table's widths come from the first listing of every node; later rows keep them.
  const bootstrapped = new Set<string>();
  try {
    await Promise.all(
      nodes.map((node) =>
        followWatch(
          client,
          path,
          node,
          {
            event: (line) => {
              if (line.type === 'bootstrapped') {
                bootstrapped.add(label(node));
                if (bootstrapped.size === nodes.length) printer.flush();
                return;
              }
              if (line.resource) printer.event({ type: line.type, resource: line.resource }, label(node));
            },
            reset: (reason) => io.stderr.write(`${label(node)}: ${reason}; listing again\n`),
            reconnecting: (reason, delay) => io.stderr.write(`${label(node)}: ${reason}; reconnecting in ${delay} ms from the last bookmark\n`),
          },
          stop.signal,
        ).catch((err: unknown) => {
          // One node refusing (403, unknown type) ends the whole watch: the same refusal would hit every node.
          stop.abort();
          throw err;
        }),
      ),
    );
  } finally {
    stopListening();
  }
}
