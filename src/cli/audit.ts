// `trustctl audit [-f] [--since 1h] [-o table|json]` prints a node's audit trail (over the API for os:admin and
// os:operator, or with --state from a local store); `-o json` is one JSON object per line, for a SIEM.
// `trustctl audit verify` checks the whole hash chain and the head signatures, naming the first record that was edited,
// removed or reordered, and exits 1 when there is one. The store, the API client and the printers load only when the
// command runs. A local store and nodes over the API are two sources of one trail (AuditTrail); the flow that prints is
// shared.
import { Option } from 'commander';
import type { Command } from 'commander';
import type { AuditVerdict } from '../controllers/audit/index.js';
import type { AuditRecordSpec } from '../resources/audit-records.js';
import type { Resource } from '../runtime/resource.js';
import type { ApiClient, RemoteTarget } from './api-client.js';
import type { CliIo } from './cli-io.js';
import { durationOption } from './duration.js';
import { remoteTargetOf, runsRemotely } from './remote-target.js';
import { STATE_OPTION_HELP, requireStore, resolveStateDir } from './state-path.js';

export const AUDIT_FORMATS = ['table', 'json'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

export interface AuditOptions {
  state?: string;
  follow?: boolean;
  /** Milliseconds back from now. */
  since?: number;
  output: AuditFormat;
}

export function registerAuditCommand(program: Command, io: CliIo): void {
  const audit = program
    .command('audit')
    .description("Show a node's audit trail: certificates issued, revocations, CA rotation phases, machine config changes, refused calls (os:admin, os:operator)")
    .option('--state <dir>', STATE_OPTION_HELP)
    .option('-f, --follow', 'keep printing records as they are written, until Ctrl-C')
    .option('--since <duration>', 'only records from this long ago on (Go syntax: 30m, 1h, 24h)', durationOption('--since'))
    .addOption(new Option('-o, --output <format>', 'table, or json: one JSON object per line').choices(AUDIT_FORMATS).default('table'))
    .action((opts: AuditOptions, cmd: Command) => printAudit(opts, runsRemotely(cmd, io.env) ? apiTrail(remoteTargetOf(cmd), io) : storeTrail(opts.state, io), io));
  audit
    .command('verify')
    .description("Check the audit trail's hash chain and head signatures; names the first record edited, removed or reordered (exit 1)")
    .option('--state <dir>', STATE_OPTION_HELP)
    .action((_opts: unknown, cmd: Command) => {
      // --state may come before or after `verify`; commander gives it to whichever command it follows.
      const { state } = cmd.optsWithGlobals<{ state?: string }>();
      return verifyAudit(runsRemotely(cmd, io.env) ? apiTrail(remoteTargetOf(cmd), io) : storeTrail(state, io), io);
    });
}

/** A record and, when several nodes were asked, the node it came from. */
export interface NodeRecord {
  spec: AuditRecordSpec;
  node?: string;
}

/** One source of audit records, open for the length of a command: a local store or nodes over the API. */
export interface AuditTrail {
  /** Records carry their node (several nodes asked): the table gets a NODE column, a JSON line a "node" field. */
  readonly byNode: boolean;
  /**
   * When -f prints the table header: at once (nodes over the API), or with the first record (a local store, whose
   * watch replays the stored records first). Each path kept the timing it always had, so the output stays the same.
   */
  readonly headerAtStart: boolean;
  /** The records from `since` on, oldest first. */
  records(since: Date | undefined): Promise<NodeRecord[]>;
  /** Every record written (the stored ones first) until `signal` aborts. */
  follow(print: (record: NodeRecord) => void, signal: AbortSignal): Promise<void>;
  /** The verdict on each trail (a store, or each node asked), with where it is, as each comes. */
  verify(report: (verdict: AuditVerdict, where: string) => Promise<void>): Promise<void>;
}

/** Opens a trail for `use` and closes it after. */
export type AuditSource = <T>(use: (trail: AuditTrail) => Promise<T>) => Promise<T>;

const sinceDate = (opts: AuditOptions): Date | undefined => (opts.since === undefined ? undefined : new Date(Date.now() - opts.since));
const isAfter = (since: Date | undefined) => (r: AuditRecordSpec) => !since || Date.parse(r.time) >= since.getTime();

/** A -f run follows until the io is asked to stop (SIGINT, SIGTERM). */
export async function printAudit(opts: AuditOptions, source: AuditSource, io: CliIo): Promise<void> {
  const { formatFollowed, formatRecords } = await import('./audit-output.js');
  const since = sinceDate(opts);
  await source(async (trail) => {
    const nodes = (records: readonly NodeRecord[]) => (trail.byNode ? records.map((r) => r.node ?? '') : undefined);
    if (!opts.follow) {
      const records = await trail.records(since);
      io.stdout.write(formatRecords(records.map((r) => r.spec), opts.output, nodes(records)));
      return;
    }
    const stop = untilStopped(io);
    let header = opts.output === 'table';
    const printHeader = () => {
      if (header) io.stdout.write(formatRecords([], 'table', nodes([])));
      header = false;
    };
    if (trail.headerAtStart) printHeader();
    try {
      await trail.follow((r) => {
        if (!isAfter(since)(r.spec)) return;
        printHeader();
        io.stdout.write(formatFollowed(r.spec, opts.output, r.node));
      }, stop.signal);
    } finally {
      stop.dispose();
    }
  });
}

export async function verifyAudit(source: AuditSource, io: CliIo): Promise<void> {
  const { formatVerdict } = await import('./audit-output.js');
  await source((trail) =>
    trail.verify(async (verdict, where) => {
      const line = formatVerdict(verdict, where);
      if (verdict.ok) io.stdout.write(line);
      else {
        io.stderr.write(line);
        io.exitCode = 1;
      }
    }),
  );
}

/** --state: the store of a local node, opened read-only; its records name no node. */
export function storeTrail(stateFlag: string | undefined, io: CliIo): AuditSource {
  return async (use) => {
    const audit = await import('../controllers/audit/index.js');
    const { openNodeState } = await import('../server/node.js');
    const dir = resolveStateDir(stateFlag, io);
    requireStore(dir);
    const { state } = await openNodeState(dir, undefined, true, io.env);
    try {
      return await use({
        byNode: false,
        headerAtStart: false,
        records: async (since) => (await audit.readAuditTrail(state, since)).map((r) => ({ spec: r.spec })),
        follow: (print, signal) =>
          new Promise<void>((resolve, reject) => {
            const subscription = state.watchKind<AuditRecordSpec>(audit.AUDIT_KIND, { bootstrap: true }).subscribe({
              next: (e) => {
                if (e.type === 'created' && e.resource) print({ spec: e.resource.spec });
              },
              error: reject,
            });
            signal.addEventListener('abort', () => {
              subscription.unsubscribe();
              resolve();
            });
          }),
        verify: async (report) => report(await audit.verifyStoredTrail(state), `--state ${dir}`),
      });
    } finally {
      await state.close();
    }
  };
}

/** -e/-n: the endpoint, or each node asked through it; with several nodes each record is labelled with its node. */
export function apiTrail(target: RemoteTarget, io: CliIo): AuditSource {
  return async (use) => {
    const { connectApi } = await import('./api-client.js');
    const { formatNodeAddress, paths } = await import('../server/apid/index.js');
    const { client, nodes } = await connectApi(target, io);
    const asked = nodes.length > 0 ? nodes : [undefined];
    const byNode = asked.length > 1;
    const label = (node: string | undefined) => (byNode ? { node: node ?? formatNodeAddress(client.endpoint).replace(/:\d+$/, '') } : {});
    try {
      return await use({
        byNode,
        headerAtStart: true,
        async records(since) {
          const rows: NodeRecord[] = [];
          for (const node of asked) {
            const found = await client.call<Resource<AuditRecordSpec>[]>('GET', paths.resources('AuditRecords'), node ? { node } : {});
            rows.push(...found.filter((r) => isAfter(since)(r.spec)).map((r) => ({ spec: r.spec, ...label(node) })));
          }
          return rows;
        },
        follow: (print, signal) => followNodes(client, asked, (spec, node) => print({ spec, ...label(node) }), signal, io),
        async verify(report) {
          for (const node of asked) await report(await client.call<AuditVerdict>('GET', paths.auditVerify, node ? { node } : {}), node ?? formatNodeAddress(client.endpoint));
        },
      });
    } finally {
      client.close();
    }
  };
}

/** Every node's watch of AuditRecords at once, reconnecting from the last bookmark after a dropped connection. */
async function followNodes(client: ApiClient, asked: (string | undefined)[], print: (spec: AuditRecordSpec, node: string | undefined) => void, signal: AbortSignal, io: CliIo): Promise<void> {
  const { paths } = await import('../server/apid/index.js');
  const { followWatch } = await import('./remote-watch.js');
  await Promise.all(
    asked.map((node) =>
      followWatch(
        client,
        paths.watch('AuditRecords'),
        node,
        {
          event: (line) => {
            const spec = line.type === 'created' ? (line.resource?.spec as AuditRecordSpec | undefined) : undefined;
            if (spec) print(spec, node);
          },
          reset: (reason) => io.stderr.write(`${reason}; listing again\n`),
          reconnecting: (reason, delay) => io.stderr.write(`${reason}; reconnecting in ${delay} ms from the last bookmark\n`),
        },
        signal,
      ),
    ),
  );
}

/** Aborts when the io is asked to stop; keeps the process alive meanwhile (store polling and sockets may not). */
function untilStopped(io: CliIo): { signal: AbortSignal; dispose(): void } {
  const stop = new AbortController();
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const stopListening = io.onStop(() => stop.abort());
  return {
    signal: stop.signal,
    dispose() {
      clearInterval(keepAlive);
      stopListening();
    },
  };
}
