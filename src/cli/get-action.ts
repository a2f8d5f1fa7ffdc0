// The actions of `trustctl get` (get.ts declares the command), loaded only when it runs.
import type { Command } from 'commander';
import type { Subscription } from 'rxjs';
import type { Finding, SecurityStatusSpec } from '../resources/security-status.js';
import type { Kind, Resource, ResourceDefinition } from '../runtime/resource.js';
import type { State } from '../runtime/state.js';
import type { CliIo } from './cli-io.js';
import { UNHEALTHY_EXIT_CODE } from './get.js';
import type { GetOptions } from './get.js';
import type { OutputFormat } from './output-format.js';
import { WatchPrinter, formatResources, formatTable } from './resource-output.js';
import { remoteTargetOf } from './remote-target.js';
import { requireStore, resolveStateDir } from './state-path.js';

/** `get rd`: the built-in types, from this build's registry (see resource-definitions.ts). */
export async function getResourceDefinitions(id: string | undefined, opts: GetOptions, io: CliIo): Promise<void> {
  const { nodeResourceRegistry } = await import('../server/node.js');
  const { ResourceDefinitions, resourceDefinitions } = await import('./resource-definitions.js');
  if (opts.watch) throw new Error('get rd: -w is not supported: the resource definitions are built in and do not change while trustctl runs');
  if (opts.namespace && opts.namespace !== ResourceDefinitions.namespace)
    throw new Error(`get rd: resource definitions live in namespace "${ResourceDefinitions.namespace}", not "${opts.namespace}"`);
  const resources = resourceDefinitions(nodeResourceRegistry(), id);
  io.stdout.write(formatResources(ResourceDefinitions, resources, opts.output, id !== undefined));
}

/** Over the API (see remote-get.ts): the same output with a NODE column first. */
export async function getRemote(typeName: string, id: string | undefined, opts: GetOptions, cmd: Command, io: CliIo): Promise<void> {
  const { nodeResourceRegistry } = await import('../server/node.js');
  const def = nodeResourceRegistry().resolve(typeName);
  const { remoteGet } = await import('./remote-get.js');
  const resources = await remoteGet(def, id, { output: opts.output, ...(opts.namespace ? { namespace: opts.namespace } : {}), ...(opts.watch ? { watch: true } : {}) }, remoteTargetOf(cmd), io);
  if (def.type === 'SecurityStatuses' && !opts.watch && io.exitCode !== 1) reportHealth(resources as Resource<SecurityStatusSpec>[], opts.output, io);
}

export async function get(typeName: string, id: string | undefined, opts: GetOptions, io: CliIo): Promise<void> {
  // Loaded here, not at the top: the node pulls in the whole runtime, which `gen` and `config` do not need.
  const { nodeResourceRegistry, openNodeState } = await import('../server/node.js');
  const def = nodeResourceRegistry().resolve(typeName);
  const dir = resolveStateDir(opts.state, io);
  requireStore(dir);
  const { state } = await openNodeState(dir, undefined, true);
  const kind: Kind = { namespace: opts.namespace ?? def.namespace, type: def.type };
  try {
    if (opts.watch) return await watchResources(state, def, kind, id, opts.output, io);
    const resources = id ? [await state.get({ ...kind, id })] : await state.list(kind);
    if (resources.length === 0 && opts.output === 'table') {
      io.stderr.write(`no ${def.type} found in namespace "${kind.namespace}"\n`);
    } else {
      io.stdout.write(formatResources(def, resources, opts.output, id !== undefined));
    }
    if (def.type === 'SecurityStatuses') reportHealth(resources as Resource<SecurityStatusSpec>[], opts.output, io);
  } finally {
    await state.close();
  }
}

const isProblem = (f: Finding) => f.severity !== 'info';

/** Healthy: exit 0. Any warning or worse (or no status at all yet): the findings, and exit 2. */
function reportHealth(statuses: readonly Resource<SecurityStatusSpec>[], format: OutputFormat, io: CliIo): void {
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

/** Prints the current listing (bootstrap), then every change, until SIGINT/SIGTERM. */
async function watchResources(state: State, def: ResourceDefinition, kind: Kind, id: string | undefined, format: OutputFormat, io: CliIo): Promise<void> {
  const printer = new WatchPrinter(def, format, (text) => io.stdout.write(text));
  await new Promise<void>((resolve, reject) => {
    // The store's poller and the clock's timers do not hold the process open; this does, until the watch ends.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    let ended = false;
    // Filled in after subscribe() returns; a watch that fails at once ends before that.
    const live: { subscription?: Subscription } = {};
    const end = (err?: unknown) => {
      if (ended) return;
      ended = true;
      clearInterval(keepAlive);
      stopListening();
      io.stdout.off('error', onSignal);
      live.subscription?.unsubscribe();
      if (err === undefined) resolve();
      else reject(err instanceof Error ? err : new Error(String(err)));
    };
    const onSignal = () => end();
    const stopListening = io.onStop(onSignal);
    // A reader that goes away (`| head`) ends the watch rather than crashing it.
    io.stdout.once('error', onSignal);
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
