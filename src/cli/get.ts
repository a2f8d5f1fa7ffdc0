// `trustctl get TYPE [ID]`: resources of nodes over the API (-e/-n, a NODE column first), or of a local node's store
// with --state, like `talosctl get`. `-w` follows changes until Ctrl-C: locally (other processes' commits included: the
// SQLite backend polls while watched), or every node at once, reconnecting from the last bookmark after a dropped
// connection. `get securitystatus` exits 2 when the node is not healthy, so cron jobs and CI can gate on it. `get rd`
// lists the types built into this trustctl. The modules that read (the node's runtime, the API client, the printers)
// load only when the command runs.
import { Option } from 'commander';
import type { Command } from 'commander';
import type { Finding, SecurityStatusSpec } from '../resources/security-status.js';
import type { Kind, Resource, ResourceDefinition } from '../runtime/resource.js';
import type { State } from '../runtime/state.js';
import type { ApiClient, RemoteTarget } from './api-client.js';
import type { CliIo } from './cli-io.js';
import { UNHEALTHY_EXIT_CODE } from './constants.js';
import { OUTPUT_FORMATS } from './output-format.js';
import type { OutputFormat } from './output-format.js';
import type { WatchPrinter } from './resource-output.js';
import { remoteTargetOf, runsRemotely } from './remote-target.js';
import { isResourceDefinitionsName } from './resource-definitions.js';
import { STATE_OPTION_HELP, requireStore, resolveStateDir } from './state-path.js';

export interface GetOptions {
  state?: string;
  namespace?: string;
  output: OutputFormat;
  watch?: boolean;
}

export function registerGetCommand(program: Command, io: CliIo): void {
  program
    .command('get')
    .description('Show resources of nodes over the API, or of a local node with --state (types and aliases: certificatestatus/cs, securitystatus, machineconfig/mc, ...; `get rd` lists them all)')
    .argument('<type>', 'resource type or alias')
    .argument('[id]', 'only this resource')
    .option('--state <dir>', STATE_OPTION_HELP)
    .option('--namespace <ns>', "namespace (default: the type's own)")
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .option('-w, --watch', 'print changes as they happen (+ created, - destroyed, blank updated) until Ctrl-C')
    .action(async (type: string, id: string | undefined, opts: GetOptions, cmd: Command) => {
      if (isResourceDefinitionsName(type)) {
        const { endpoints, nodes } = cmd.optsWithGlobals<{ endpoints?: string[]; nodes?: string[] }>();
        if (endpoints?.length || nodes?.length) io.stderr.write('note: get rd lists the types built into this trustctl; no node is asked\n');
        return getResourceDefinitions(id, opts, io);
      }
      const { nodeResourceRegistry } = await import('../server/node.js');
      const def = nodeResourceRegistry().resolve(type);
      const from = runsRemotely(cmd, io.env) ? await apiSource(remoteTargetOf(cmd), io) : await storeSource(opts.state, io);
      try {
        await get(from, def, id, opts, io);
      } finally {
        await from.close();
      }
    });
}

/** Where `get` reads: a local store or nodes over the API. Each prints its own shapes; the command's flow is one. */
interface ResourceSource {
  /** Prints the resources (or what is missing) and answers them, for the health verdict; undefined when none could be read. */
  print(def: ResourceDefinition, id: string | undefined, opts: GetOptions): Promise<Resource[] | undefined>;
  /** Prints the listing, then every change, until the io is asked to stop. */
  watch(def: ResourceDefinition, id: string | undefined, opts: GetOptions): Promise<void>;
  close(): Promise<void>;
}

async function get(from: ResourceSource, def: ResourceDefinition, id: string | undefined, opts: GetOptions, io: CliIo): Promise<void> {
  if (opts.watch) return from.watch(def, id, opts);
  const resources = await from.print(def, id, opts);
  if (def.type !== 'SecurityStatuses' || !resources) return;
  const { formatTable } = await import('./resource-output.js');
  reportHealth(resources as Resource<SecurityStatusSpec>[], opts.output, io, formatTable);
}

/** `get rd`: the built-in types, from this build's registry (see resource-definitions.ts). */
async function getResourceDefinitions(id: string | undefined, opts: GetOptions, io: CliIo): Promise<void> {
  const { nodeResourceRegistry } = await import('../server/node.js');
  const { ResourceDefinitions, resourceDefinitions } = await import('./resource-definitions.js');
  const { formatResources } = await import('./resource-output.js');
  if (opts.watch) throw new Error('get rd: -w is not supported: the resource definitions are built in and do not change while trustctl runs');
  if (opts.namespace && opts.namespace !== ResourceDefinitions.namespace)
    throw new Error(`get rd: resource definitions live in namespace "${ResourceDefinitions.namespace}", not "${opts.namespace}"`);
  const resources = resourceDefinitions(nodeResourceRegistry(), id);
  io.stdout.write(formatResources(ResourceDefinitions, resources, opts.output, id !== undefined));
}

/** --state: the node's store, read-only; readers never create one. */
async function storeSource(stateFlag: string | undefined, io: CliIo): Promise<ResourceSource> {
  const { openNodeState } = await import('../server/node.js');
  const { WatchPrinter, formatResources } = await import('./resource-output.js');
  const dir = resolveStateDir(stateFlag, io);
  requireStore(dir);
  const { state } = await openNodeState(dir, undefined, true, io.env);
  const kindOf = (def: ResourceDefinition, opts: GetOptions): Kind => ({ namespace: opts.namespace ?? def.namespace, type: def.type });
  return {
    async print(def, id, opts) {
      const kind = kindOf(def, opts);
      const resources = id ? [await state.get({ ...kind, id })] : await state.list(kind);
      if (resources.length === 0 && opts.output === 'table') io.stderr.write(`no ${def.type} found in namespace "${kind.namespace}"\n`);
      else io.stdout.write(formatResources(def, resources, opts.output, id !== undefined));
      return resources;
    },
    watch: (def, id, opts) => watchStore(state, kindOf(def, opts), id, new WatchPrinter(def, opts.output, (text) => io.stdout.write(text)), io),
    close: () => state.close(),
  };
}

/** -e/-n (or the talosconfig's context): each node asked (forwarded by the endpoint), or the endpoint itself. */
async function apiSource(target: RemoteTarget, io: CliIo): Promise<ResourceSource> {
  const { connectApi } = await import('./api-client.js');
  const { formatNodeAddress, paths } = await import('../server/apid/index.js');
  const { WatchPrinter, formatResources } = await import('./resource-output.js');
  const { client, nodes } = await connectApi(target, io);
  const asked = nodes.length > 0 ? nodes : [undefined];
  const label = (node: string | undefined) => node ?? formatNodeAddress(client.endpoint).replace(/:\d+$/, '');
  const query = (opts: GetOptions) => (opts.namespace ? `?namespace=${encodeURIComponent(opts.namespace)}` : '');
  return {
    async print(def, id, opts) {
      const answers = await Promise.allSettled(
        asked.map(async (node) => {
          const path = `${paths.resources(def.type, id)}${query(opts)}`;
          const found = id === undefined ? await client.call<Resource[]>('GET', path, node ? { node } : {}) : [await client.call<Resource>('GET', path, node ? { node } : {})];
          return found.map((resource) => ({ node: label(node), resource }));
        }),
      );
      const rows: { node: string; resource: Resource }[] = [];
      let failed = false;
      answers.forEach((answer, i) => {
        if (answer.status === 'fulfilled') rows.push(...answer.value);
        else {
          io.stderr.write(`error: ${label(asked[i])}: ${answer.reason instanceof Error ? answer.reason.message : String(answer.reason)}\n`);
          io.exitCode = 1;
          failed = true;
        }
      });
      if (answers.every((a) => a.status === 'rejected')) return undefined;
      if (rows.length === 0 && opts.output === 'table') io.stderr.write(`no ${def.type} found\n`);
      else io.stdout.write(formatResources(def, rows.map((r) => r.resource), opts.output, id !== undefined && asked.length === 1, rows.map((r) => r.node)));
      // a node that failed made the command fail already: no health verdict on the others' statuses alone
      return failed ? undefined : rows.map((r) => r.resource);
    },
    watch: (def, id, opts) => watchNodes(client, asked, label, `${paths.watch(def.type, id)}${query(opts)}`, new WatchPrinter(def, opts.output, (text) => io.stdout.write(text), true), io),
    close: async () => client.close(),
  };
}

const isProblem = (f: Finding) => f.severity !== 'info';

/** Healthy: exit 0. Any warning or worse (or no status at all yet): the findings, and exit 2. */
function reportHealth(statuses: readonly Resource<SecurityStatusSpec>[], format: OutputFormat, io: CliIo, formatTable: (rows: string[][]) => string): void {
  if (statuses.length === 0) {
    io.stderr.write('no SecurityStatus yet: the node has not reported; run trustctl serve on this state directory\n');
    io.exitCode = UNHEALTHY_EXIT_CODE;
    return;
  }
  const problems = statuses.flatMap((s) => s.spec.findings.filter(isProblem));
  if (problems.length === 0 && statuses.every((s) => s.spec.healthy)) return;
  io.exitCode = UNHEALTHY_EXIT_CODE;
  if (format === 'table') {
    const rows = [['SEVERITY', 'CODE', 'SUBJECT', 'MESSAGE'], ...problems.map((f) => [f.severity, f.code, f.subject, f.message])];
    io.stdout.write(`\nFINDINGS\n${formatTable(rows)}`);
  }
  io.stderr.write(`not healthy: ${problems.length} finding(s) of severity warning or worse\n`);
}

/** The local store's watch: the current listing (bootstrap), then every change, until the io is asked to stop. */
async function watchStore(state: State, kind: Kind, id: string | undefined, printer: WatchPrinter, io: CliIo): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    // The store's poller and the clock's timers do not hold the process open; this does, until the watch ends.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    let ended = false;
    // Filled in after subscribe() returns; a watch that fails at once ends before that.
    const live: { subscription?: { unsubscribe(): void } } = {};
    const end = (err?: unknown) => {
      if (ended) return;
      ended = true;
      clearInterval(keepAlive);
      stopListening();
      io.stdout.off('error', onStop);
      live.subscription?.unsubscribe();
      if (err === undefined) resolve();
      else reject(err instanceof Error ? err : new Error(String(err)));
    };
    const onStop = () => end();
    const stopListening = io.onStop(onStop);
    // A reader that goes away (`| head`) ends the watch rather than crashing it.
    io.stdout.once('error', onStop);
    live.subscription = state.watchKind(kind, { bootstrap: true, ...(id ? { idPrefix: id } : {}) }).subscribe({
      next: (event) => {
        if (id !== undefined && event.resource && event.resource.metadata.id !== id) return;
        printer.event(event);
      },
      error: (err: unknown) => end(err),
      complete: () => end(),
    });
    if (ended) live.subscription.unsubscribe();
  });
}

/** Every node's watch at once; the table's widths come from the first listing of every node, later rows keep them. */
async function watchNodes(client: ApiClient, nodes: (string | undefined)[], label: (n: string | undefined) => string, path: string, printer: WatchPrinter, io: CliIo): Promise<void> {
  const { followWatch } = await import('./remote-watch.js');
  const stop = new AbortController();
  const stopListening = io.onStop(() => stop.abort());
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
